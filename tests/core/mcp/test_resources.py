"""Resources through the pool: list, templates, read, subscriptions (also across reconnects), tools."""

from __future__ import annotations

import json

import pytest
from tests.mcp_servers.servers import network_server
from tests.mcp_servers.support import FAST, eventually

from aiops_core import Agent
from aiops_core.errors import MCPConnectionError, MCPError
from aiops_core.mcp import MCPClientPool, ResourceInfo, memory_transport
from aiops_core.messages import ImagePart, TextPart
from aiops_core.providers import FunctionModel

pytestmark = pytest.mark.anyio


async def test_list_templates_and_read(features):
    async with features() as pool:
        listed = await pool.list_resources()
        templates = await pool.list_resource_templates("feat")
        text = await pool.read_resource("feat", "config://core-sw-01")
        image = await pool.read_resource("feat", "config://logo")
        filled = await pool.read_resource("feat", "device://core-sw-01/status")
    assert listed == [
        ResourceInfo(
            "feat", "config://core-sw-01", "core_config", None, "Running config", "text/plain"
        ),
        ResourceInfo("feat", "config://logo", "logo", None, "", "image/png"),
    ]
    assert [(t.uri_template, t.mime_type) for t in templates] == [
        ("device://{device}/status", "application/json")
    ]
    assert text == [TextPart(text="hostname core-sw-01\ninterface ge-0/0/1\n description uplink")]
    assert isinstance(image[0], ImagePart) and image[0].media_type == "image/png"
    assert json.loads(filled[0].text) == {"device": "core-sw-01", "status": "up"}  # type: ignore[union-attr]


async def test_an_unknown_resource_is_an_mcp_error(features):
    async with features() as pool:
        with pytest.raises(MCPError, match="could not read config://nope"):
            await pool.read_resource("feat", "config://nope")


async def test_servers_without_resources_list_none_and_all_servers_are_merged(features):
    server = features.server
    async with MCPClientPool(
        [{"name": "net", "command": "x"}, {"name": "feat", "command": "x"}],
        transport_factory=memory_transport({"net": network_server(), "feat": server}),
        **FAST,
    ) as pool:
        assert await pool.list_resources("net") == []
        assert [r.server for r in await pool.list_resources()] == ["feat", "feat"]
        assert await pool.list_prompts("net") == []


async def test_subscriptions_get_updates_and_survive_a_reconnect(features):
    updates: list[tuple[str, str]] = []

    async def on_update(server: str, uri: str) -> None:
        updates.append((server, uri))

    uri = "config://core-sw-01"
    async with features() as pool:
        await pool.subscribe("feat", uri, on_update)
        assert features.server.state["subscribed"] == {uri}
        await pool.call_tool("feat", "touch", {"uri": uri})
        await eventually(lambda: updates == [("feat", uri)])

        session = pool.session("feat")
        connected = session.connected_since
        pool.reconnect("feat")
        await eventually(lambda: session.healthy and session.connected_since != connected)
        features.server.state["subscribed"].clear()  # the server forgot it; the client renews it
        pool.reconnect("feat")
        await eventually(lambda: features.server.state["subscribed"] == {uri})
        await pool.call_tool("feat", "touch", {"uri": uri})
        await eventually(lambda: len(updates) == 2)

        await pool.unsubscribe("feat", uri, on_update)
        assert features.server.state["subscribed"] == set()
        assert (await pool.call_tool("feat", "touch", {"uri": uri})).content[0].text == "false"


async def test_subscribing_where_the_server_cannot_is_refused():
    async with MCPClientPool(
        [{"name": "net", "command": "x"}],
        transport_factory=memory_transport({"net": network_server()}),
        **FAST,
    ) as pool:

        async def on_update(server: str, uri: str) -> None: ...

        with pytest.raises(MCPError, match="does not support resource subscriptions"):
            await pool.subscribe("net", "config://x", on_update)


async def test_reading_from_a_down_server_says_so(features):
    async with features() as pool:
        pool.session("feat").close()
        await eventually(lambda: not pool.session("feat").healthy)
        with pytest.raises(MCPConnectionError):
            await pool.read_resource("feat", "config://core-sw-01")


async def test_resource_tools_let_the_model_list_and_read(features):
    calls = iter(
        [
            ("mcp_list_resources", {}),
            ("mcp_read_resource", {"server": "feat", "uri": "config://core-sw-01"}),
        ]
    )

    def model(request):
        from aiops_core.messages import AssistantMessage, ToolCall

        step = next(calls, None)
        if step is None:
            return "the uplink is ge-0/0/1"
        name, args = step
        return AssistantMessage(tool_calls=[ToolCall(id=name, name=name, arguments=args)])

    async with features(resource_tools=True) as pool:
        names = [t.name for t in await pool.list_tools()]
        result = await Agent(FunctionModel(model), tools=[pool]).run("which uplink?")
    assert {"mcp_list_resources", "mcp_read_resource"} <= set(names)
    listing, read = (m for m in result.messages if m.role == "tool")
    assert json.loads(listing.text)[0]["uri"] == "config://core-sw-01"
    assert "hostname core-sw-01" in read.text
    assert result.output == "the uplink is ge-0/0/1"


async def test_without_the_option_no_resource_tools_are_offered(features):
    async with features() as pool:
        assert not {t.name for t in await pool.list_tools()} & {
            "mcp_list_resources",
            "mcp_read_resource",
        }
