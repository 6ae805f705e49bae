"""In-process MCP servers for the fast unit tests (served through the SDK's memory transport)."""

from __future__ import annotations

import json

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


class Contact(BaseModel):
    """What ``features_server``'s ``ask`` tool asks the user."""

    name: str
    team: str = "netops"
    pager: bool = True
    level: int = 2


class Confirm(BaseModel):
    """A yes/no question."""

    go: bool


def features_server(name: str = "feat") -> MCPServer:
    """A server that uses the client's side of the protocol.

    Tools: ``ask`` (form elicitation), ``ask_url`` (URL elicitation), ``summarize`` (sampling),
    ``roots``, ``capabilities`` (what the client declared), ``chatty`` (log messages and
    progress), ``wait`` (records being cancelled), ``touch`` (resource update to subscribers).
    Resources ``config://core-sw-01`` (text), ``config://logo`` (PNG), template
    ``device://{name}/status``; prompt ``troubleshoot``. ``server.state`` records what happened.
    """
    import mcp_types as types
    from mcp.server.mcpserver.prompts.base import AssistantMessage, UserMessage

    server = MCPServer(name)
    state: dict[str, object] = {"subscribed": set(), "cancelled": 0, "finished": 0}

    @server.tool()
    async def ask(question: str, ctx: Context) -> str:
        """Ask the user for contact details."""
        result = await ctx.elicit(question, Contact)
        data = result.data.model_dump() if result.action == "accept" and result.data else None
        return json.dumps({"action": result.action, "data": data})

    @server.tool()
    async def change(device: str, ctx: Context) -> str:
        """Ask who approves, then confirm: two questions in one call."""
        who = await ctx.elicit(f"Who approves the change on {device}?", Contact)
        if who.action != "accept" or who.data is None:
            return f"no approver ({who.action})"
        sure = await ctx.elicit(f"{who.data.name}: really change {device} now?", Confirm)
        if sure.action != "accept" or sure.data is None or not sure.data.go:
            return "not changed"
        state["changes"] = int(state.get("changes", 0)) + 1  # type: ignore[call-overload]
        return f"{device} changed, approved by {who.data.name}"

    @server.tool()
    async def ask_url(ctx: Context) -> str:
        """Send the user to a URL."""
        result = await ctx.elicit_url(
            "Sign in at the vendor portal", "https://vendor.example/x", "e-1"
        )
        return result.action

    @server.tool()
    async def summarize(text: str, ctx: Context, max_tokens: int = 5000) -> str:
        """Ask the client's model to summarize."""
        request = types.CreateMessageRequest(
            params=types.CreateMessageRequestParams(
                messages=[
                    types.SamplingMessage(
                        role="user", content=types.TextContent(type="text", text=text)
                    )
                ],
                system_prompt="Summarize in one line.",
                max_tokens=max_tokens,
                temperature=0.1,
            )
        )
        try:
            result = await ctx.session.send_request(request, types.CreateMessageResult)
        except Exception as err:  # the client refused: report what it said
            return f"refused: {err}"
        return json.dumps({"text": result.content.text, "model": result.model})

    @server.tool()
    async def roots(ctx: Context) -> list[str]:
        """The client's roots."""
        result = await ctx.session.send_request(types.ListRootsRequest(), types.ListRootsResult)
        return [str(r.uri) for r in result.roots]

    @server.tool()
    def capabilities(ctx: Context) -> dict:
        """The capabilities the client declared."""
        caps = ctx.client_capabilities
        return caps.model_dump(mode="json", exclude_none=True) if caps else {}

    @server.tool()
    async def chatty(ctx: Context) -> str:
        """Log at two levels and report progress."""
        for level, text in (("info", "link up on ge-0/0/1"), ("error", "BGP peer down")):
            await ctx.session.send_notification(
                types.LoggingMessageNotification(
                    params=types.LoggingMessageNotificationParams(
                        level=level, data=text, logger="syslog"
                    )
                ),
                related_request_id=ctx.request_id,
            )
        for step in (1, 2, 3):
            await ctx.report_progress(step, 3, f"step {step}")
        return "done"

    @server.tool()
    async def wait(seconds: float = 30.0) -> str:
        """Sleep; counts cancellations."""
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            state["cancelled"] = int(state["cancelled"]) + 1  # type: ignore[call-overload]
            raise
        state["finished"] = int(state["finished"]) + 1  # type: ignore[call-overload]
        return "waited"

    @server.tool()
    async def touch(uri: str, ctx: Context) -> bool:
        """Tell subscribers that a resource changed."""
        if uri not in state["subscribed"]:  # type: ignore[operator]
            return False
        await ctx.session.send_resource_updated(uri)
        return True

    @server.resource("config://core-sw-01", mime_type="text/plain", description="Running config")
    def core_config() -> str:
        return "hostname core-sw-01\ninterface ge-0/0/1\n description uplink"

    @server.resource("config://logo", mime_type="image/png")
    def logo() -> bytes:
        return TINY_PNG

    @server.resource("device://{device}/status", mime_type="application/json")
    def device_status(device: str) -> str:
        return json.dumps({"device": device, "status": "up"})

    @server.prompt()
    def troubleshoot(device: str, symptom: str = "packet loss") -> list:
        """Start troubleshooting a device."""
        return [
            UserMessage(f"You troubleshoot {device}; the symptom is {symptom}."),
            AssistantMessage("I will check interfaces first."),
        ]

    async def subscribe(ctx, params: types.SubscribeRequestParams) -> types.EmptyResult:
        state["subscribed"].add(str(params.uri))  # type: ignore[attr-defined]
        return types.EmptyResult()

    async def unsubscribe(ctx, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        state["subscribed"].discard(str(params.uri))  # type: ignore[attr-defined]
        return types.EmptyResult()

    low = server._lowlevel_server
    low.add_request_handler("resources/subscribe", types.SubscribeRequestParams, subscribe)
    low.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams, unsubscribe)
    server.state = state  # type: ignore[attr-defined]
    return server
