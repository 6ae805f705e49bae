"""Two tools that let the model use MCP resources as readable context.

``mcp_list_resources`` lists what the healthy servers offer; ``mcp_read_resource`` reads one.
The pool adds them to its tools when built with ``resource_tools=True`` and a connected server
offers resources.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..messages import ContentPart
from ..tools import Tool

if TYPE_CHECKING:
    from ..context import RunContext
    from .pool import MCPClientPool

__all__ = ["LIST_RESOURCES", "READ_RESOURCE", "resource_tools"]

LIST_RESOURCES = "mcp_list_resources"
READ_RESOURCE = "mcp_read_resource"


def resource_tools(pool: MCPClientPool) -> list[Tool]:
    """The list and read tools, bound to ``pool``."""

    async def list_handler(arguments: dict[str, Any], context: RunContext) -> str:
        server = arguments.get("server") or None
        items = await pool.list_resources(server)
        rows = [
            {k: v for k, v in r.as_dict().items() if v is not None and k != "size"} for r in items
        ]
        return json.dumps(rows, ensure_ascii=False)

    async def read_handler(arguments: dict[str, Any], context: RunContext) -> list[ContentPart]:
        return await pool.read_resource(str(arguments["server"]), str(arguments["uri"]))

    servers = {"type": "string", "description": "Server name.", "enum": pool.servers}
    return [
        Tool(
            LIST_RESOURCES,
            "List the resources (documents, configurations, data) the MCP servers offer, with "
            "their URIs. Optionally for one server.",
            {"type": "object", "properties": {"server": servers}},
            list_handler,
            metadata={"mcp_resources": "list"},
        ),
        Tool(
            READ_RESOURCE,
            "Read one MCP resource by server and URI (from mcp_list_resources).",
            {
                "type": "object",
                "properties": {"server": servers, "uri": {"type": "string"}},
                "required": ["server", "uri"],
            },
            read_handler,
            metadata={"mcp_resources": "read"},
        ),
    ]
