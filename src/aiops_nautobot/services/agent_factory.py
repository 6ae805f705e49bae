"""Turning database rows into an :class:`aiops_core.Agent`.

Two halves, so that the ORM never runs on the event loop:

* :func:`plan_agent` (sync, in the request or job thread) reads the rows and the secrets and
  returns an :class:`AgentPlan` of plain values (the model from :mod:`.model_choice`, the prompt
  from :mod:`.system_prompt`, the MCP servers from :mod:`.mcp_servers`);
* :func:`open_agent` (async, on the engine loop) turns the plan into an agent, leasing the
  long-lived parts (chat model client, MCP pools from :mod:`.mcp_pools`, the checkpoint store
  from :mod:`.stores`) from the :class:`~aiops_nautobot.services.engine_loop.EngineLoop` so they
  survive between requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, aclosing, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiops_core.middleware import MiddlewareSpec

from ..choices import EnvironmentChoices
from ..policy import check_middleware_config
from ..settings import get_settings
from ..tools import native_tools
from .engine_loop import EngineLoop
from .errors import NotConfiguredError
from .mcp_catalog import CatalogEntry, CatalogToolset, catalog_snapshot
from .mcp_pools import lease_pool
from .mcp_servers import healthy_server_configs
from .model_choice import (
    ENV_MODEL,
    ModelChoice,
    environment_choice,
    model_choice,
    resolve_model,
    tenant_rows,
)
from .stores import open_checkpoint_store, store_ttl
from .system_prompt import prompt_text, render_system_prompt
from .usage import UsagePlan, open_usage, plan_usage

if TYPE_CHECKING:
    from aiops_core import Agent
    from aiops_core.mcp import MCPServerConfig
    from aiops_core.tools import Tool

    from ..models import LLMModel

__all__ = ["AgentPlan", "middleware_specs", "open_agent", "plan_agent"]


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
    mcp_catalog: dict[tuple[str, str], CatalogEntry] = field(default_factory=dict)
    """The MCP tool catalog (see :mod:`.mcp_catalog`), keyed by (server, tool)."""
    max_steps: int = 20
    store_url: str = field(default="memory://", repr=False)
    store_ttl: timedelta | None = None
    user_key: str | None = None
    usage: UsagePlan = field(default_factory=UsagePlan)
    """Prices and budgets (see :mod:`.usage`)."""
    tenant_key: str | None = None
    """The conversation's tenant (primary key): the run's ``RunContext.tenant``, which usage
    records and tenant budgets use; ``None``: no tenant (shared configuration only)."""
    model_row: LLMModel | None = field(default=None, repr=False, compare=False)
    """The ``LLMModel`` row read for the plan (with its provider), so that recording the
    conversation does not read it again; ``None`` for the LAB fallback."""


# ---------------------------------------------------------------------------------- sync half
def plan_agent(
    user: Any,
    *,
    model: str | None = None,
    user_token: str | None = None,
    tools: Sequence[Tool] = (),
    tenant: Any = None,
) -> AgentPlan:
    """Read the configuration for one chat run (sync; call outside the event loop).

    Args:
        user: the requesting Nautobot user.
        model: an ``LLMModel`` selector (see :func:`.model_choice.resolve_model`); ``None``: the
            default model.
        user_token: the user's Nautobot API token, forwarded to servers that allow it.
        tools: local tools to offer besides the MCP servers' tools (the native Nautobot tools
            of :mod:`aiops_nautobot.tools` are added when ``native_tools`` is enabled).
        tenant: the conversation's ``Tenant`` (or ``None``): its rows and the shared ones (no
            tenant) are used, never another tenant's; see :mod:`aiops_nautobot.tenancy`.

    Raises:
        NotConfiguredError: no usable model (outside LAB, or LAB without ``AIOPS_MODEL``).
    """
    settings = get_settings()
    row = resolve_model(model, user, tenant)
    if row is None:
        if settings.environment != EnvironmentChoices.LAB:
            raise NotConfiguredError(
                "No default LLM model is configured: add one under AI Ops > LLM Models and mark "
                f"it default (the {ENV_MODEL} fallback is for the LAB environment only)"
            )
        choice = environment_choice()
        middleware: tuple[MiddlewareSpec, ...] = ()
    else:
        choice = model_choice(row)
        middleware = middleware_specs(row, tenant)
    system_prompt = render_system_prompt(
        prompt_text(row, tenant), spec=choice.spec, environment=settings.environment, user=user
    )
    shared, per_user = healthy_server_configs(user_token=user_token, tenant=tenant)
    scope = settings.tenancy.tool_scope(tenant)
    if getattr(user, "pk", None) is not None:
        tools = (*tools, *native_tools(user, settings.native_tools, tenant=scope))
    return AgentPlan(
        model=choice,
        system_prompt=system_prompt,
        middleware=middleware,
        mcp_servers=tuple(shared),
        user_mcp_servers=tuple(per_user),
        tools=tuple(tools),
        mcp_catalog=catalog_snapshot() if shared or per_user else {},
        max_steps=settings.max_steps,
        store_url=settings.checkpoint_url,
        store_ttl=store_ttl(),
        user_key=str(user.pk) if getattr(user, "pk", None) is not None else None,
        usage=plan_usage(tenant, settings.opentelemetry),
        tenant_key=str(tenant.pk) if tenant is not None else None,
        model_row=row,
    )


def middleware_specs(row: LLMModel, tenant: Any = None) -> tuple[MiddlewareSpec, ...]:
    """Active middleware of a model, ordered by priority then type name.

    Only shared rows (no tenant) and rows of ``tenant`` apply.

    Raises:
        PolicyError: a middleware's config holds a URL outside the outbound policy (checked
            again here: the row may predate the policy or have been written around it).
    """
    rows = (
        tenant_rows(row.middlewares.filter(is_active=True), tenant)
        .select_related("middleware_type")
        .order_by("priority", "middleware_type__name")
    )
    specs = []
    for item in rows:
        check_middleware_config(item.config or {}, what=f"middleware {item} config")
        specs.append(item.to_spec())
    return tuple(specs)


# ---------------------------------------------------------------------------------- async half
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
            tools.append(
                CatalogToolset(
                    await lease_pool(engine, stack, plan.mcp_servers, tenant_key=plan.tenant_key),
                    plan.mcp_catalog,
                )
            )
        if plan.user_mcp_servers:
            pool = await lease_pool(
                engine,
                stack,
                plan.user_mcp_servers,
                user_key=plan.user_key,
                tenant_key=plan.tenant_key,
            )
            tools.append(CatalogToolset(pool, plan.mcp_catalog))
        store = await open_checkpoint_store(engine, plan.store_url, plan.store_ttl, stack)
        recorder, budgets, catalog = await stack.enter_async_context(open_usage(plan.usage, engine))
        yield Agent(
            chat_model,
            tools=tools,
            system_prompt=plan.system_prompt,
            middleware=plan.middleware,
            store=store,
            max_steps=plan.max_steps,
            recorder=recorder,
            budgets=budgets or (),
            catalog=catalog,
        )
