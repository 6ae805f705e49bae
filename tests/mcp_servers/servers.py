"""In-process MCP servers for the fast unit tests (served through the SDK's memory transport)."""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import Context, Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import (
    CallToolResult,
    EmbeddedResource,
    ResourceLink,
    TextContent,
    TextResourceContents,
)
from pydantic import BaseModel


class DeviceStatus(BaseModel):
    device: str
    status: str


TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def network_server(name: str = "net") -> MCPServer:
    """A server with one tool of every result kind, a failing tool and a slow tool."""
    server = MCPServer(name)
    state = {"calls": 0}

    @server.tool()
    def device_status(device: str) -> DeviceStatus:
        """Return the operational status of a device."""
        state["calls"] += 1
        return DeviceStatus(device=device, status="up")

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool()
    def fail(reason: str = "interface down") -> str:
        """Always fails."""
        raise ToolError(f"cannot comply: {reason}")

    @server.tool()
    async def slow(seconds: float = 5.0) -> str:
        """Sleep, then answer."""
        await anyio.sleep(seconds)
        return "done"

    @server.tool()
    def snapshot() -> Image:
        """A tiny PNG."""
        return Image(data=TINY_PNG, format="png")

    @server.tool()
    def mixed() -> CallToolResult:
        """Text, an embedded resource and a resource link."""
        return CallToolResult(
            content=[
                TextContent(type="text", text="see attached"),
                EmbeddedResource(
                    type="resource",
                    resource=TextResourceContents(
                        uri="config://core-sw-01",
                        mime_type="text/plain",
                        text="hostname core-sw-01",
                    ),
                ),
                ResourceLink(type="resource_link", uri="config://core-sw-02", name="core-sw-02"),
            ]
        )

    @server.tool()
    async def add_tool(name: str, ctx: Context) -> str:
        """Add a tool and tell the client that the list changed."""
        server.add_tool(lambda: name, name=name, description=f"added {name}")
        await ctx.session.send_tool_list_changed()
        return "added"

    server.state = state  # type: ignore[attr-defined]
    return server


def time_server(name: str = "clock") -> MCPServer:
    """A second server whose ``echo`` collides with the network server's."""
    server = MCPServer(name)

    @server.tool()
    def echo(text: str) -> str:
        """Echo, the clock's way."""
        return f"clock: {text}"

    @server.tool()
    def now() -> str:
        """The time."""
        return "2026-11-26T00:00:00Z"

    return server
