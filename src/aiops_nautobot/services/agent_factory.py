"""Turning database rows into an :class:`aiops_core.Agent`.

Two halves, so that the ORM never runs on the event loop:

* :func:`plan_agent` (sync, in the request or job thread) reads the rows and the secrets and
  returns an :class:`AgentPlan` of plain values;
* :func:`open_agent` (async, on the engine loop) turns the plan into an agent, leasing the
  long-lived parts (chat model client, MCP pools, checkpoint store) from the
  :class:`~aiops_nautobot.services.engine_loop.EngineLoop` so they survive between requests.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, aclosing, asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiops_core.errors import UserError
from aiops_core.middleware import MiddlewareSpec

from ..prompts import render_prompt
from ..settings import get_settings
from .engine_loop import EngineLoop
from .mcp_servers import healthy_server_configs

if TYPE_CHECKING:
    from aiops_core import Agent
    from aiops_core.checkpoint import CheckpointStore
    from aiops_core.mcp import MCPServerConfig
    from aiops_core.tools import Tool

    from ..models import LLMModel

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "ENV_MODEL",
    "ENV_SYSTEM_PROMPT",
    "AgentPlan",
    "ModelChoice",
    "NotConfiguredError",
    "open_agent",
    "open_checkpoint_store",
    "plan_agent",
    "resolve_model",
    "store_ttl",
]

ENV_MODEL = "AIOPS_MODEL"
"""LAB fallback: ``provider:model`` used when no ``LLMModel`` is configured."""
ENV_SYSTEM_PROMPT = "AIOPS_SYSTEM_PROMPT"
"""LAB fallback: system prompt text (placeholders allowed)."""

DEFAULT_SYSTEM_PROMPT = (
    "You are an operations assistant for network and IT teams, working with Nautobot, the "
    "network source of truth. You are talking to {user} in the {environment} environment. "
    "Today is {current_date}, {current_time} UTC. Use the tools you are given to look facts up "
    "instead of guessing, say when you do not know, and never invent device names or addresses."
)

MAX_USER_POOLS = 32
"""Per-user MCP pools (servers that get the user's token) kept open per process."""

CLEANUP_GRACE = timedelta(minutes=5)
"""Added to the session TTL before the cleanup job prunes a thread."""


class NotConfiguredError(UserError):
    """No usable model is configured; the message says what to set."""


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The chat model to build, as plain values (the API key lives only in ``options``)."""

    spec: str
    """``provider:model``."""
    options: Mapping[str, Any] = field(repr=False)
    """Handler config keys plus ``api_key`` when a secret is configured."""
    llm_model_id: Any = None
    """Primary key of the ``LLMModel`` row, ``None`` for the LAB environment fallback."""

    @property
    def fingerprint(self) -> str:
        """A digest of spec and options: changes when the row or the secret changes."""
        return _digest([self.spec, dict(self.options)])


@dataclass(frozen=True, slots=True)
class AgentPlan:
    """Everything needed to build an agent for one request, read from the database."""

    model: ModelChoice
    system_prompt: str | None
    middleware: tuple[MiddlewareSpec, ...] = ()
    mcp_servers: tuple[MCPServerConfig, ...] = ()
    """Healthy shared servers: one pool per process."""
    user_mcp_servers: tuple[MCPServerConfig, ...] = ()
    """Servers that carry the requesting user's token: one pool per user."""
    tools: tuple[Tool, ...] = ()
    max_steps: int = 20
    store_url: str = field(default="memory://", repr=False)
    store_ttl: timedelta | None = None
    user_key: str | None = None


# ---------------------------------------------------------------------------------- sync half
def resolve_model(selector: str | None = None, user: Any = None) -> LLMModel | None:
    """The ``LLMModel`` for a selector: a primary key, ``name``, ``provider:name``, or the default.

    Returns ``None`` when no selector is given and no model is marked default. With ``user``, a
    selector may name only the default model or a model the user may view (others are reported
    as not found, so their existence is not confirmed).

    Raises:
        NotConfiguredError: the selector matches no model (or several).
    """
    from django.core.exceptions import ValidationError

    from ..models import LLMModel

    rows = LLMModel.objects.select_related("provider", "system_prompt", "api_key_secret")
    if not selector:
        default: LLMModel | None = rows.filter(is_default=True).first()
        return default
    selector = selector.strip()
    candidates = []
    with suppress(ValidationError, ValueError):  # not a primary key: try the names
        candidates = list(rows.filter(pk=selector))
    if not candidates:
        provider, sep, name = selector.partition(":")
        if sep:
            candidates = list(rows.filter(provider__name=provider, name=name))
        else:
            candidates = list(rows.filter(name=selector))
    if len(candidates) != 1:
        problem = "matches several models" if candidates else "matches no model"
        raise NotConfiguredError(
            f"Model {selector!r} {problem}: pass an LLM model's id, its name, or provider:name"
        )
    chosen: LLMModel = candidates[0]
    if user is not None and not chosen.is_default:
        visible = LLMModel.objects.restrict(user, "view").filter(pk=chosen.pk).exists()
        if not visible:
            raise NotConfiguredError(
                f"Model {selector!r} matches no model: pass an LLM model's id, its name, or "
                "provider:name"
            )
    return chosen


def model_choice(row: LLMModel) -> ModelChoice:
    """The :class:`ModelChoice` of an ``LLMModel`` row (reads its API key secret)."""
    provider = row.provider
    if not provider.enabled:
        raise NotConfiguredError(
            f"Provider {provider.name!r} of model {row.name!r} is disabled: enable it or pick "
            "another model"
        )
    options: dict[str, Any] = {**(provider.config or {}), **(row.config or {})}
    if _handler_accepts(provider.name, "temperature"):
        options["temperature"] = row.temperature
    if row.api_key_secret is not None:
        options["api_key"] = _secret_value(row.api_key_secret, row, "API key")
    return ModelChoice(f"{provider.name}:{row.name}", options, row.pk)


def environment_choice() -> ModelChoice:
    """The LAB fallback model from ``AIOPS_MODEL`` (the provider reads its own key variable)."""
    spec = os.environ.get(ENV_MODEL, "").strip()
    if not spec:
        raise NotConfiguredError(
            "No LLM model is configured: add one under AI Ops > LLM Models and mark it default, "
            f"or (LAB only) set {ENV_MODEL}=provider:model, e.g. openai:gpt-4o-mini, plus the "
            "provider's API key variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...)"
        )
    if ":" not in spec and spec != "test":
        raise NotConfiguredError(f"{ENV_MODEL}={spec!r} must look like provider:model")
    return ModelChoice(spec, {})


def plan_agent(
    user: Any,
    *,
    model: str | None = None,
    user_token: str | None = None,
    tools: Sequence[Tool] = (),
) -> AgentPlan:
    """Read the configuration for one chat run (sync; call outside the event loop).

    Args:
        user: the requesting Nautobot user.
        model: an ``LLMModel`` selector (see :func:`resolve_model`); ``None``: the default model.
        user_token: the user's Nautobot API token, forwarded to servers that allow it.
        tools: local tools to offer besides the MCP servers' tools.

    Raises:
        NotConfiguredError: no usable model (outside LAB, or LAB without ``AIOPS_MODEL``).
    """
    settings = get_settings()
    row = resolve_model(model, user)
    if row is None:
        if settings.environment != "LAB":
            raise NotConfiguredError(
                "No default LLM model is configured: add one under AI Ops > LLM Models and mark "
                f"it default (the {ENV_MODEL} fallback is for the LAB environment only)"
            )
        choice = environment_choice()
        prompt_text = os.environ.get(ENV_SYSTEM_PROMPT) or DEFAULT_SYSTEM_PROMPT
        middleware: tuple[MiddlewareSpec, ...] = ()
    else:
        choice = model_choice(row)
        prompt = row.system_prompt
        active = prompt is not None and prompt.status == "active" and prompt.text
        prompt_text = str(prompt.text) if active else DEFAULT_SYSTEM_PROMPT
        middleware = middleware_specs(row)
    provider, _, model_name = choice.spec.partition(":")
    now = datetime.now(UTC)
    system_prompt = render_prompt(
        prompt_text,
        {
            "current_date": now.date().isoformat(),
            "current_time": now.strftime("%H:%M"),
            "model_name": model_name or provider,
            "provider": provider,
            "environment": settings.environment,
            "user": getattr(user, "username", str(user)),
        },
    )
    shared, per_user = healthy_server_configs(user_token=user_token)
    return AgentPlan(
        model=choice,
        system_prompt=system_prompt,
        middleware=middleware,
        mcp_servers=tuple(shared),
        user_mcp_servers=tuple(per_user),
        tools=tuple(tools),
        max_steps=settings.max_steps,
        store_url=settings.checkpoint_url,
        store_ttl=store_ttl(),
        user_key=str(user.pk) if getattr(user, "pk", None) is not None else None,
    )


def middleware_specs(row: LLMModel) -> tuple[MiddlewareSpec, ...]:
    """Active middleware of a model, ordered by priority then type name."""
    rows = (
        row.middlewares.filter(is_active=True)
        .select_related("middleware_type")
        .order_by("priority", "middleware_type__name")
    )
    return tuple(
        MiddlewareSpec(
            type=item.middleware_type.name,
            priority=item.priority,
            config=dict(item.config or {}),
            critical=item.is_critical,
        )
        for item in rows
    )


def store_ttl() -> timedelta:
    """How long an idle conversation is kept (``chat_session_ttl_minutes``)."""
    return timedelta(minutes=get_settings().chat_session_ttl_minutes)


def _handler_accepts(provider: str, key: str) -> bool:
    from aiops_core.errors import UnknownNameError
    from aiops_core.providers import get_provider

    try:
        handler = get_provider(provider)
    except (UnknownNameError, ImportError):
        return False
    return key in handler.Config.model_fields


def _secret_value(secret: Any, obj: Any, what: str) -> str:
    try:
        value = secret.get_value(obj=obj)
    except Exception as err:
        # The provider's message may describe where the secret lives, never its value.
        raise NotConfiguredError(
            f"The {what} secret {secret.name!r} cannot be read: {type(err).__name__}; check the "
            "secret's provider and parameters"
        ) from None
    if not value:
        raise NotConfiguredError(f"The {what} secret {secret.name!r} is empty")
    return str(value)


def _digest(value: Any) -> str:
    data = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()


# ---------------------------------------------------------------------------------- async half
async def open_checkpoint_store(
    engine: EngineLoop, url: str, ttl: timedelta | None, stack: AsyncExitStack
) -> CheckpointStore:
    """Lease the process's checkpoint store for ``url`` (call on the engine loop)."""
    from aiops_core.checkpoint import open_store

    def factory() -> Any:
        # A ``?ttl=`` in the URL is the operator's explicit choice and wins over the session TTL.
        explicit = "ttl=" in url.partition("?")[2]
        store = open_store(url) if ttl is None or explicit else open_store(url, ttl=ttl)
        return aclosing(store)

    return await stack.enter_async_context(engine.lease("checkpoint-store", (url, ttl), factory))


@asynccontextmanager
async def open_agent(plan: AgentPlan, engine: EngineLoop) -> AsyncIterator[Agent]:
    """Build the agent of ``plan`` on the engine loop, leasing its long-lived parts.

    The chat model client, the MCP pools and the store stay open after the block; they are
    shared with later requests and replaced when their configuration changes.
    """
    from aiops_core import Agent
    from aiops_core.providers import get_chat_model

    async with AsyncExitStack() as stack:
        choice = plan.model

        def model_factory() -> Any:
            return aclosing(get_chat_model(choice.spec, **dict(choice.options)))

        key = f"model:{choice.llm_model_id or choice.spec}"
        chat_model = await stack.enter_async_context(
            engine.lease(key, choice.fingerprint, model_factory)
        )
        tools: list[Any] = list(plan.tools)
        if plan.mcp_servers:
            tools.append(await _lease_pool(engine, stack, "mcp:shared", plan.mcp_servers))
        if plan.user_mcp_servers:
            pool_key = f"mcp:user:{plan.user_key}"
            tools.append(await _lease_pool(engine, stack, pool_key, plan.user_mcp_servers))
            await engine.trim("mcp:user:", keep=MAX_USER_POOLS)
        store = await open_checkpoint_store(engine, plan.store_url, plan.store_ttl, stack)
        yield Agent(
            chat_model,
            tools=tools,
            system_prompt=plan.system_prompt,
            middleware=plan.middleware,
            store=store,
            max_steps=plan.max_steps,
        )


async def _lease_pool(
    engine: EngineLoop, stack: AsyncExitStack, key: str, configs: Sequence[MCPServerConfig]
) -> Any:
    from aiops_core.mcp import MCPClientPool

    fingerprint = _digest(
        [[c.model_dump(mode="json"), _digest(c.request_headers())] for c in configs]
    )
    return await stack.enter_async_context(
        engine.lease(key, fingerprint, lambda: MCPClientPool(list(configs)))
    )
