"""The MCP tool catalog at work: discovery, and what the model may call.

Every time the app's MCP pool lists its servers' tools, :class:`CatalogToolset` records them
in :class:`~aiops_nautobot.models.MCPTool` (new tools enabled, unreviewed; read-only when the
server says ``readOnlyHint``) and offers the model only what the catalog allows:

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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from aiops_core.tools import Tool

from ..choices import MCPToolAccessChoices

__all__ = [
    "CatalogToolset",
    "DiscoveredTool",
    "ToolDecision",
    "ToolRefused",
    "record_tools",
    "tool_fingerprint",
]


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
    read_only = bool(spec.annotations and spec.annotations.read_only_hint)
    return DiscoveredTool(
        server=server,
        name=spec.name,
        description=(spec.description or spec.title or "").strip(),
        fingerprint=tool_fingerprint(spec),
        read_only=read_only,
    )


def record_tools(found: Iterable[DiscoveredTool]) -> dict[tuple[str, str], ToolDecision]:
    """Record listed tools in the catalog and decide each one (sync ORM).

    A new tool is added enabled and unreviewed; a known tool gets its current description and
    fingerprint (its review, access and switch are kept). A tool of a server without a row is
    refused (the row was deleted meanwhile).
    """
    from ..models import MCPServer, MCPTool
    from .mcp_servers import unique_names

    found = list(found)
    names = {t.server for t in found}
    servers = {
        row.config_name: row
        for row in unique_names(MCPServer.objects.order_by("name"))
        if row.config_name in names
    }
    rows = {
        (row.server_id, row.name): row
        for row in MCPTool.objects.filter(server__in=list(servers.values())).select_related(
            "server"
        )
    }
    decisions: dict[tuple[str, str], ToolDecision] = {}
    for tool in found:
        server = servers.get(tool.server)
        if server is None:
            decisions[tool.server, tool.name] = ToolDecision(offered=False)
            continue
        row = rows.get((server.pk, tool.name))
        if row is None:
            row = MCPTool(
                server=server,
                name=tool.name,
                access=MCPToolAccessChoices.READ_ONLY
                if tool.read_only
                else MCPToolAccessChoices.WRITABLE,
            )
        if row._state.adding or (row.fingerprint, row.description) != (
            tool.fingerprint,
            tool.description,
        ):
            row.fingerprint, row.description = tool.fingerprint, tool.description
            row.save()
        decisions[tool.server, tool.name] = decide(row)
    return decisions


def decide(row: Any) -> ToolDecision:
    """What the catalog allows of one :class:`~aiops_nautobot.models.MCPTool` row."""
    if not row.enabled:
        return ToolDecision(offered=False)
    refusal = row.refusal()
    if refusal is not None:
        return ToolDecision(refusal=refusal)
    return ToolDecision(requires_approval=row.access == MCPToolAccessChoices.WRITABLE)


def _record_in_thread(found: list[DiscoveredTool]) -> dict[tuple[str, str], ToolDecision]:
    from django.db import connections

    try:
        return record_tools(found)
    finally:
        connections.close_all()  # the thread goes back to anyio's pool


class CatalogToolset:
    """The tools of an MCP pool, as the catalog allows them (see the module's docs).

    Tools without an MCP origin (the pool's resource tools) pass unchanged.
    """

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def __repr__(self) -> str:
        return f"CatalogToolset({self.pool!r})"

    async def list_tools(self) -> list[Tool]:
        tools = await self.pool.list_tools()
        found = []
        specs: dict[str, dict[str, Any]] = {}
        for tool in tools:
            server, name = tool.metadata.get("server"), tool.metadata.get("mcp_tool")
            if server is None or name is None:
                continue
            if server not in specs:
                specs[server] = {s.name: s for s in self.pool.session(server).offered_tools()}
            spec = specs[server].get(name)
            if spec is not None:
                found.append(discovered(server, spec))
        decisions = await anyio.to_thread.run_sync(_record_in_thread, found)
        offered = []
        for tool in tools:
            server, name = tool.metadata.get("server"), tool.metadata.get("mcp_tool")
            if server is None or name is None:
                offered.append(tool)
                continue
            decision = decisions.get((server, name), ToolDecision(offered=False))
            if decision.offered:
                offered.append(_as_decided(tool, decision))
        return offered


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
