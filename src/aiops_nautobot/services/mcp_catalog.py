"""The MCP tool catalog at work: discovery, and what the model may call.

:func:`catalog_snapshot` reads the catalog in the sync half (:func:`.agent_factory.plan_agent`).
Every time the app's MCP pool lists its servers' tools, :class:`CatalogToolset` records new or
changed definitions in :class:`~aiops_nautobot.models.MCPTool` (new tools enabled, unreviewed,
read-only when the server says ``readOnlyHint``). The health check lists the healthy servers'
tools through the same toolset (:func:`discover_tools`), so the catalog is filled before
anybody chats. The model is offered only what the catalog allows:

* a disabled tool is not offered at all;
* a writable tool that nobody reviewed, and any tool whose definition changed after its review
  (a "rug pull"), is offered only as a refusal: calling it returns an error naming what to do,
  and the model never sees the unreviewed description;
* a reviewed writable tool needs a person's approval for every call
  (``requires_approval``, enforced by :func:`aiops_core.tools.execute_tool`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from aiops_core.tools import Tool

from ..choices import MCPToolAccessChoices

__all__ = [
    "CatalogEntry",
    "CatalogToolset",
    "DiscoveredTool",
    "ToolDecision",
    "ToolRefused",
    "catalog_snapshot",
    "decide",
    "discover_tools",
    "record_tools",
    "tool_fingerprint",
]

log = logging.getLogger("aiops_nautobot.mcp")

WRITABLE = MCPToolAccessChoices.WRITABLE
READ_ONLY = MCPToolAccessChoices.READ_ONLY


class ToolRefused(Exception):
    """The tool catalog refuses this call (the message says what an administrator must do)."""


@dataclass(frozen=True, slots=True)
class DiscoveredTool:
    """One tool as a server listed it."""

    server: str
    """The server's engine name (``MCPServer.config_name``)."""
    name: str
    description: str
    fingerprint: str
    read_only: bool


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """What the catalog holds of one tool (plain values, read in the sync half)."""

    enabled: bool
    access: str
    fingerprint: str
    description: str
    reviewed_fingerprint: str


@dataclass(frozen=True, slots=True)
class ToolDecision:
    """What the catalog allows of one tool."""

    offered: bool = True
    refusal: str | None = None
    requires_approval: bool = False


def tool_fingerprint(spec: Any) -> str:
    """SHA-256 of the canonical JSON of a tool's name, description, input schema, annotations."""
    annotations = spec.annotations.model_dump(mode="json") if spec.annotations else None
    data = {
        "name": spec.name,
        "description": spec.description or "",
        "input_schema": spec.input_schema or {},
        "annotations": annotations,
    }
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def discovered(server: str, spec: Any) -> DiscoveredTool:
    """A listed MCP tool (``mcp_types.Tool``) as the catalog records it."""
    return DiscoveredTool(
        server=server,
        name=spec.name,
        description=(spec.description or spec.title or "").strip(),
        fingerprint=tool_fingerprint(spec),
        read_only=bool(spec.annotations and spec.annotations.read_only_hint),
    )


def decide(tool: DiscoveredTool, entry: CatalogEntry | None) -> ToolDecision:
    """What the catalog allows of a listed tool (``entry`` ``None``: a new tool)."""
    if entry is None:
        entry = CatalogEntry(True, READ_ONLY if tool.read_only else WRITABLE, "", "", "")
    where = f"MCP tool {tool.name!r} of server {tool.server!r}"
    if not entry.enabled:
        return ToolDecision(offered=False)
    if entry.reviewed_fingerprint and entry.reviewed_fingerprint != tool.fingerprint:
        return ToolDecision(
            refusal=f"{where} changed its definition after it was reviewed; an administrator "
            "must review it again (AI Ops > MCP Tools) before it can be used"
        )
    if entry.access == WRITABLE:
        if not entry.reviewed_fingerprint:
            return ToolDecision(
                refusal=f"{where} is writable and not reviewed; an administrator must review "
                "it (AI Ops > MCP Tools) before it can be used"
            )
        return ToolDecision(requires_approval=True)
    return ToolDecision()


def catalog_snapshot() -> dict[tuple[str, str], CatalogEntry]:
    """The catalog of the healthy servers, keyed by ``(server engine name, tool name)`` (sync
    ORM)."""
    from ..choices import MCPServerStatusChoices
    from ..models import MCPTool

    rows = MCPTool.objects.filter(server__status=MCPServerStatusChoices.HEALTHY)
    return {
        (row.server.config_name, row.name): CatalogEntry(
            enabled=row.enabled,
            access=row.access,
            fingerprint=row.fingerprint,
            description=row.description,
            reviewed_fingerprint=row.reviewed_fingerprint,
        )
        for row in rows.select_related("server")
    }


def record_tools(found: Iterable[DiscoveredTool]) -> int:
    """Record listed tools in the catalog (sync ORM); returns how many rows were written.

    A new tool is added enabled and unreviewed (read-only when its server says so); a known
    tool gets its current description and fingerprint, its switch, access and review are kept.
    Tools of servers without a row are skipped.
    """
    from ..models import MCPServer, MCPTool
    from .mcp_servers import unique_names

    found = list(found)
    wanted = {t.server for t in found}
    servers = {
        row.config_name: row
        for row in unique_names(MCPServer.objects.order_by("name"))
        if row.config_name in wanted
    }
    written = 0
    for tool in found:
        server = servers.get(tool.server)
        if server is None:
            continue
        row = MCPTool.objects.filter(server=server, name=tool.name).first()
        if row is None:
            row = MCPTool(
                server=server, name=tool.name, access=READ_ONLY if tool.read_only else WRITABLE
            )
        elif (row.fingerprint, row.description) == (tool.fingerprint, tool.description):
            continue
        row.fingerprint, row.description = tool.fingerprint, tool.description
        row.save()
        written += 1
    return written


def _record_in_thread(found: list[DiscoveredTool]) -> int:
    """:func:`record_tools` in a worker thread. A failure (another process recording the same
    new tool at once) is logged: the run's decisions do not depend on it."""
    from django.db import DatabaseError, connections

    try:
        return record_tools(found)
    except DatabaseError as err:
        log.warning("Could not record MCP tools in the catalog: %s", err)
        return 0
    finally:
        connections.close_all()  # the thread goes back to anyio's pool


class CatalogToolset:
    """The tools of an MCP pool, as the catalog allows them (see the module's docs).

    Args:
        pool: an open :class:`aiops_core.mcp.MCPClientPool`.
        catalog: :func:`catalog_snapshot`, read when the run was planned.

    Tools without an MCP origin (the pool's resource tools) pass unchanged.
    """

    def __init__(self, pool: Any, catalog: Mapping[tuple[str, str], CatalogEntry]) -> None:
        self.pool = pool
        self.catalog = dict(catalog)
        self.recorded = 0
        """Catalog rows the last listing wrote (new or changed tools)."""

    def __repr__(self) -> str:
        return f"CatalogToolset({self.pool!r})"

    async def list_tools(self) -> list[Tool]:
        tools = await self.pool.list_tools()
        specs: dict[str, dict[str, Any]] = {}
        offered, changed = [], []
        for tool in tools:
            server, name = tool.metadata.get("server"), tool.metadata.get("mcp_tool")
            if server is None or name is None:
                offered.append(tool)
                continue
            if server not in specs:
                specs[server] = {s.name: s for s in self.pool.session(server).offered_tools()}
            spec = specs[server].get(name)
            if spec is None:  # listed by the pool but gone from the session meanwhile
                continue
            found = discovered(server, spec)
            entry = self.catalog.get((server, name))
            if entry is None or (entry.fingerprint, entry.description) != (
                found.fingerprint,
                found.description,
            ):
                changed.append(found)
            decision = decide(found, entry)
            if decision.offered:
                offered.append(_as_decided(tool, decision))
        self.recorded = 0
        if changed:
            self.recorded = await anyio.to_thread.run_sync(_record_in_thread, changed)
        return offered


async def discover_tools(
    configs: Sequence[Any],
    catalog: Mapping[tuple[str, str], CatalogEntry],
    *,
    startup_timeout: float = 10.0,
) -> int:
    """List the tools of ``configs`` and record them in the catalog; returns the rows written.

    The servers are opened in a short-lived pool made as the chat's are
    (:func:`.mcp_pools.new_pool`: the app's token store, the outbound URL policy), and listed
    through :class:`CatalogToolset`, the chat's own path. A server that cannot be opened is
    left out (the pool logs why). Call on the engine loop; ``catalog`` is
    :func:`catalog_snapshot`, read in the sync half.
    """
    from .mcp_pools import new_pool

    async with new_pool(configs, ping_interval=None, startup_timeout=startup_timeout) as pool:
        toolset = CatalogToolset(pool, catalog)
        await toolset.list_tools()
    return toolset.recorded


def _as_decided(tool: Tool, decision: ToolDecision) -> Tool:
    if decision.refusal is not None:
        message = decision.refusal

        async def refuse(arguments: dict[str, Any], context: Any) -> Any:
            raise ToolRefused(message)

        # The unreviewed description is never shown to the model: it may be the attack.
        return Tool(
            tool.name,
            f"[{tool.metadata['server']}] Not available: {message}",
            {"type": "object"},
            refuse,
            metadata={**tool.metadata, "refused": True},
        )
    if decision.requires_approval:
        return Tool(
            tool.name,
            tool.description,
            tool.parameters,
            tool.handler,
            timeout=tool.timeout,
            metadata={**tool.metadata, "requires_approval": True},
            max_retries=tool.max_retries,
        )
    return tool
