"""The Nautobot chat endpoint's own cost: added latency over ``Agent.run``, SQL queries per turn,
and time to the first server-sent event over the model's first token.

Opt-in (it needs a migrated Nautobot database it may write to): set
``AIOPS_BENCH_NAUTOBOT_DB`` to a scratch PostgreSQL database (e.g. a clone of a migrated one,
``createdb -T <migrated> bench_nautobot``). Without it the scenario reports nothing.

Both sides run the same turn: the offline ``test`` model (no network), the same tools (the
native Nautobot tools the plan gives the user), three middleware rows, a system prompt and a
budget, a new thread each turn, the in-process memory store. The engine side builds the agent
once from the same plan (``open_agent``) and times ``Agent.run`` (and ``Agent.stream`` up to
its first text delta) on the engine loop; the test model calls every tool first, so the
first text comes after the tool calls on both sides. The Django side posts to
``/api/plugins/ai-ops/chat/`` through Django's test client (the whole middleware stack, token
authentication, permissions, configuration reads, the engine-loop hop, the ``Conversation``
row and its change log) and times the response (or, streaming, its first ``text`` event).
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

DB_VARIABLE = "AIOPS_BENCH_NAUTOBOT_DB"
MIDDLEWARE = ("model_call_limit", "tool_call_limit", "timeout")


def _setup(database: str) -> None:
    os.environ["NAUTOBOT_DB_NAME"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.nautobot.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _configure() -> tuple[Any, str]:
    """The rows of the measured turn; returns the user and its API token key."""
    from django.contrib.auth import get_user_model
    from nautobot.users.models import Token

    from aiops_nautobot.models import (
        Budget,
        LLMMiddleware,
        LLMModel,
        LLMProvider,
        MiddlewareType,
        SystemPrompt,
    )

    provider, _ = LLMProvider.objects.get_or_create(name="test")
    prompt, _ = SystemPrompt.objects.get_or_create(
        name="bench-prompt", defaults={"text": "You help {user}.", "status": "active"}
    )
    LLMModel.objects.filter(is_default=True).exclude(name="bench-chat").update(is_default=False)
    model, _ = LLMModel.objects.update_or_create(
        provider=provider,
        name="bench-chat",
        defaults={
            "is_default": True,
            "environment": "LAB",
            "system_prompt": prompt,
            "input_price": 1,
            "output_price": 1,
        },
    )
    for index, name in enumerate(MIDDLEWARE):
        kind, _ = MiddlewareType.objects.get_or_create(name=name, defaults={"is_builtin": True})
        LLMMiddleware.objects.get_or_create(
            llm_model=model, middleware_type=kind, defaults={"priority": 10 + index, "config": {}}
        )
    Budget.objects.get_or_create(name="bench-global", defaults={"limit": 1_000_000})
    user, _ = get_user_model().objects.get_or_create(
        username="bench-chat", defaults={"is_superuser": True}
    )
    token = Token.objects.filter(user=user).first() or Token.objects.create(user=user)
    return user, token.key


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _ms(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


class _Engine:
    """The engine side: an agent built once from the chat's plan, kept open on the engine loop;
    each sample is one ``Agent.run`` (or ``Agent.stream`` to its first text delta) submitted
    from this thread, like the endpoint submits its turn."""

    def __init__(self, user: Any) -> None:
        from contextlib import AsyncExitStack

        from aiops_nautobot.services.agent_factory import open_agent
        from aiops_nautobot.services.chat import prepare_chat
        from aiops_nautobot.services.engine_loop import get_engine_loop

        self.engine = get_engine_loop()
        self.plan = prepare_chat(user, "hi").plan
        self.stack = AsyncExitStack()
        self.agent = self.engine.run(
            self.stack.enter_async_context(open_agent(self.plan, self.engine)), timeout=60
        )

    def run(self, thread_id: str | None = None) -> float:
        start = time.perf_counter()
        run = self.agent.run("hi", user=self.plan.user_key, thread_id=thread_id)
        self.engine.run(run, timeout=60)
        return (time.perf_counter() - start) * 1000

    def first_text(self) -> float:
        from aiops_core.agent import TextDelta

        async def measure() -> float | None:
            start, first = time.perf_counter(), None
            async for event in self.agent.stream("hi", user=self.plan.user_key):
                if first is None and isinstance(event, TextDelta):
                    first = (time.perf_counter() - start) * 1000
            return first

        first = self.engine.run(measure(), timeout=60)
        if first is None:
            raise RuntimeError("the agent streamed no text")
        return float(first)

    def close(self) -> None:
        self.engine.run(self.stack.aclose(), timeout=60)


def run(quick: bool = False) -> list[dict]:
    database = os.environ.get(DB_VARIABLE)
    if not database:
        return []
    _setup(database)
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    config = {**_app_config(), "checkpoint_url": "memory://"}
    with override_settings(PLUGINS_CONFIG={"aiops_nautobot": config}):
        user, key = _configure()
        count = 30 if quick else 300
        client = Client(HTTP_AUTHORIZATION=f"Token {key}")
        url = reverse("plugins-api:aiops_nautobot-api:chat")

        def post(thread_id: str | None = None) -> Any:
            body = {"message": "hi", **({"thread_id": thread_id} if thread_id else {})}
            response = client.post(url, body, content_type="application/json")
            if response.status_code != 200:
                raise RuntimeError(f"chat answered {response.status_code}: {response.content!r}")
            return response

        def first_event() -> float:
            start = time.perf_counter()
            response = client.post(
                url, {"message": "hi", "stream": True}, content_type="application/json"
            )
            elapsed = None
            for chunk in response.streaming_content:  # to the end: it records the conversation
                text = chunk.decode() if isinstance(chunk, bytes) else chunk
                if elapsed is None and text.startswith("event: text"):
                    elapsed = (time.perf_counter() - start) * 1000
            if elapsed is None:
                raise RuntimeError("the chat stream sent no text event")
            return elapsed

        engine = _Engine(user)
        try:
            # Interleaved, so that a change in the machine's load hits both sides alike.
            engine.run(), post(), engine.first_text(), first_event()  # warm
            engine_thread, django_thread = uuid.uuid4().hex, post().json()["thread_id"]
            engine.run(engine_thread)
            engine_runs, django_runs, engine_firsts, django_firsts = [], [], [], []
            engine_later, django_later = [], []
            for _ in range(count):
                engine_runs.append(engine.run())
                django_runs.append(_ms(post))
                engine_later.append(engine.run(engine_thread))
                django_later.append(_ms(lambda: post(django_thread)))
                engine_firsts.append(engine.first_text())
                django_firsts.append(first_event())
        finally:
            engine.close()
        with CaptureQueriesContext(connection) as queries:
            post()
        with CaptureQueriesContext(connection) as later_queries:
            post(django_thread)
    engine_p50, engine_p95 = _percentiles(engine_runs)
    django_p50, django_p95 = _percentiles(django_runs)
    token_p50, token_p95 = _percentiles(engine_firsts)
    event_p50, event_p95 = _percentiles(django_firsts)
    later_engine_p50, later_engine_p95 = _percentiles(engine_later)
    later_p50, later_p95 = _percentiles(django_later)
    rows = [
        ["Agent.run (engine alone)", round(engine_p50, 2), round(engine_p95, 2), None, None],
        [
            "POST chat/ (Django test client)",
            round(django_p50, 2),
            round(django_p95, 2),
            round(django_p50 - engine_p50, 2),
            round(django_p95 - engine_p95, 2),
        ],
        [
            "Agent.run, later turn of a thread",
            round(later_engine_p50, 2),
            round(later_engine_p95, 2),
            None,
            None,
        ],
        [
            "POST chat/, later turn of a thread",
            round(later_p50, 2),
            round(later_p95, 2),
            round(later_p50 - later_engine_p50, 2),
            round(later_p95 - later_engine_p95, 2),
        ],
        ["Agent.stream, first text delta", round(token_p50, 2), round(token_p95, 2), None, None],
        [
            "POST chat/ stream, first SSE text event",
            round(event_p50, 2),
            round(event_p95, 2),
            round(event_p50 - token_p50, 2),
            round(event_p95 - token_p95, 2),
        ],
    ]
    return [
        {
            "title": "Nautobot chat endpoint over the engine alone",
            "columns": ["path", "p50 ms", "p95 ms", "added p50 ms", "added p95 ms"],
            "rows": rows,
            "notes": f"{count} turns each (interleaved), test model, 3 middleware, a system prompt and a budget, "
            f"memory store; {len(queries)} SQL queries per new-thread request and "
            f"{len(later_queries)} per later turn in the request thread; latency ratio at p50 {django_p50 / engine_p50:.1f}x, first SSE "
            f"text event over first text delta at p50 {event_p50 / token_p50:.1f}x.",
        }
    ]


def _app_config() -> dict[str, Any]:
    from django.conf import settings

    return dict(getattr(settings, "AIOPS_TEST_CONFIG", {}))
