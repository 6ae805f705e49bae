"""Provider faults injected while conversations run: 429, 500s, timeouts, resets mid-answer.

The retry middleware recovers every one of them for a turn that has not streamed anything yet;
a stream cut after its first token fails its turn with a clear error. Either way the store
holds every acknowledged turn once and never half a turn.
"""

from __future__ import annotations

import anyio
import pytest

from aiops_core import Agent, MemoryStore, MiddlewareSpec
from aiops_core.agent import FinalResult
from tests.servers.llm import Cut, Fail, Hang, LLMServer, Script

from .conftest import scaled
from .faults import inject
from .load import check_threads, run_load
from .report import RESULTS

pytestmark = pytest.mark.anyio

CONVERSATIONS = scaled(100)
TURNS = 4
BAD = scaled(20)
"""Faulty answers injected per fault."""

RETRY = MiddlewareSpec(
    "retry", config={"max_attempts": 8, "initial_delay": 0.05, "max_delay": 0.4, "jitter": True}
)

FAULTS: dict[str, tuple[Script, str]] = {
    "provider 429 with Retry-After": (
        Fail(429, "rate limited", headers={"Retry-After": "0.3"}),
        "a slower answer (retried after Retry-After)",
    ),
    "provider 500s": (Fail(500, "internal error"), "a slower answer (retried)"),
    "provider timeouts": (Hang(5.0), "a slower answer (timed out, retried)"),
    "provider connection reset mid-answer": (Cut(fraction=0.5), "a slower answer (retried)"),
}


async def drained(llm: LLMServer) -> None:
    with anyio.fail_after(60):
        while llm._queue:  # noqa: ASYNC110 - the server announces nothing
            await anyio.sleep(0.01)


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_retryable_provider_faults_under_load_lose_nothing(fault, llm, make_model) -> None:
    script, seen = FAULTS[fault]
    store = MemoryStore()
    agent = Agent(make_model(timeout=2.0), tools=[lookup], store=store, middleware=[RETRY])

    async def turn(thread_id: str, prompt: str) -> str:
        return str((await agent.run(prompt, thread_id=thread_id)).output)

    def start() -> None:
        llm.script(*[script] * BAD)

    during = inject(start, lambda: drained(llm))
    load = await run_load(
        fault, turn, conversations=CONVERSATIONS, turns=TURNS, during=during, pause=0.02
    )
    stored = await check_threads(store, load)
    RESULTS.add_fault(fault, load, seen)
    assert not load.errors, load.messages
    assert load.acked == stored == load.sent


async def test_a_stream_reset_after_its_first_token_fails_the_turn_and_stores_nothing(
    llm, make_model
) -> None:
    store = MemoryStore()
    agent = Agent(make_model(timeout=2.0), tools=[lookup], store=store, middleware=[RETRY])

    async def turn(thread_id: str, prompt: str) -> str:
        async for event in agent.stream(prompt, thread_id=thread_id):
            if isinstance(event, FinalResult):
                return str(event.result.output)
        raise AssertionError("a stream without a final result")

    def start() -> None:
        llm.script(*[Cut(fraction=0.6)] * BAD)

    during = inject(start, lambda: drained(llm))
    fault = "provider stream reset after the first token"
    load = await run_load(
        fault, turn, conversations=CONVERSATIONS, turns=TURNS, during=during, pause=0.02
    )
    stored = await check_threads(store, load)
    assert set(load.errors) == {"ProviderConnectionError"}, load.messages
    assert 0 < load.failed <= BAD
    message = load.messages["ProviderConnectionError"]
    seen = f"the turn failed: {message[:60]}"
    RESULTS.add_fault(fault, load, seen)
    assert load.acked == stored == load.sent - load.failed


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"
