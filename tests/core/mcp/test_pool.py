"""MCPClientPool against in-memory MCP servers (fast unit tests)."""

from __future__ import annotations

import anyio
import pytest
from tests.mcp_servers.servers import network_server, time_server
from tests.mcp_servers.support import FAST, eventually

from aiops_core import Agent
from aiops_core.context import RunContext
from aiops_core.errors import MCPConnectionError, UserError
from aiops_core.mcp import MCPClientPool, ServerState, memory_transport
from aiops_core.mcp.pool import exposed_names
from aiops_core.messages import DataPart, ImagePart, TextPart, ToolCall
from aiops_core.providers import TestModel
from aiops_core.tools import Tool, ToolInvocation, Toolset, execute_tool

pytestmark = pytest.mark.anyio


def configs(*names: str, **extra):
    return [{"name": n, "command": "in-memory", **extra} for n in names]


def pool_for(servers: dict, **kwargs) -> MCPClientPool:
    return MCPClientPool(
        kwargs.pop("configs", None) or configs(*servers),
        transport_factory=memory_transport(servers),
        **{**FAST, **kwargs},
    )


async def call(tool: Tool, **arguments):
    invocation = ToolInvocation(
        call=ToolCall(id="c1", name=tool.name, arguments=arguments), tool=tool, context=RunContext()
    )
    return await execute_tool(invocation)


async def by_name(pool: MCPClientPool) -> dict[str, Tool]:
    return {t.name: t for t in await pool.list_tools()}


async def test_no_servers_is_valid_and_the_agent_runs_without_tools():
    async with MCPClientPool() as pool:
        assert await pool.list_tools() == []
        assert pool.status() == []
        result = await Agent(TestModel(answer="no tools needed"), tools=[pool]).run("hello")
    assert result.output == "no tools needed"
    assert result.tool_calls == []


async def test_the_pool_is_a_toolset_and_tools_carry_server_and_unique_names():
    async with pool_for({"net": network_server(), "clock": time_server()}) as pool:
        assert isinstance(pool, Toolset)
        tools = await by_name(pool)
        echoed = await call(tools["clock_echo"], text="hi")
    # "echo" exists on both servers: both get the server prefix; unique names stay as they are.
    assert {"net_echo", "clock_echo", "device_status", "now", "snapshot"} <= set(tools)
    assert "echo" not in tools
    assert tools["net_echo"].metadata == {"server": "net", "mcp_tool": "echo"}
    assert tools["clock_echo"].description.startswith("[clock] ")
    assert tools["device_status"].description == "[net] Return the operational status of a device."
    assert tools["device_status"].parameters["properties"]["device"]["type"] == "string"
    assert echoed.content == [TextPart(text="clock: hi")]


def test_naming_rule_is_predictable():
    names = exposed_names(
        {"a": ["echo", "ping", "a_echo"], "b": ["echo", "ls"], "c b": ["ls", "x/y"]}
    )
    assert names["a", "ping"] == "ping"
    assert names["a", "a_echo"] == "a_echo"  # a plain name is never taken away ...
    assert names["a", "echo"] == "a_echo_2"  # ... so the prefixed one gets a suffix
    assert names["b", "echo"] == "b_echo"
    assert names["b", "ls"] == "b_ls"
    assert names["c b", "ls"] == "c_b_ls"  # unsafe characters become "_"
    assert names["c b", "x/y"] == "x_y"
    assert len(set(names.values())) == len(names)


async def test_an_agent_calls_pool_tools_given_the_pool_or_its_tool_list():
    server = network_server()
    async with pool_for({"net": server}) as pool:
        agent = Agent(TestModel(call_tools=["device_status"]), tools=[pool])
        result = await agent.run("is core-sw-01 up?")
        listed = Agent(TestModel(call_tools=["device_status"]), tools=await pool.list_tools())
        again = await listed.run("and now?")
    for run in (result, again):
        (tool_result,) = [m for m in run.messages if getattr(m, "role", "") == "tool"]
        assert not tool_result.is_error
        assert tool_result.content[0].data["status"] == "up"
    assert server.state["calls"] == 2


async def test_error_results_come_back_as_tool_errors_naming_the_server():
    async with pool_for({"net": network_server()}) as pool:
        tools = await by_name(pool)
        result = await call(tools["fail"], reason="link flapping")
    assert result.is_error
    assert result.text.startswith("MCPToolError: MCP server 'net': tool 'fail' failed")
    assert "link flapping" in result.text


async def test_every_content_type_is_converted():
    async with pool_for({"net": network_server()}) as pool:
        tools = await by_name(pool)
        image = await call(tools["snapshot"])
        data = await call(tools["device_status"], device="r1")
        mixed = await call(tools["mixed"])
    (part,) = image.content
    assert isinstance(part, ImagePart) and part.media_type == "image/png" and part.data
    assert data.content == [DataPart(data={"device": "r1", "status": "up"})]
    assert mixed.content == [
        TextPart(text="see attached"),
        TextPart(text="hostname core-sw-01"),
        DataPart(
            data={"type": "resource_link", "uri": "config://core-sw-02", "name": "core-sw-02"}
        ),
    ]


async def test_a_slow_call_times_out_and_the_session_keeps_working():
    cfg = configs("net", timeout=0.3)
    async with pool_for({"net": network_server()}, configs=cfg) as pool:
        tools = await by_name(pool)
        result = await call(tools["slow"], seconds=30)
        assert result.is_error
        assert "MCPTimeoutError" in result.text and "'net'" in result.text
        assert (await call(tools["echo"], text="still here")).content == [
            TextPart(text="still here")
        ]
        assert pool.session("net").healthy


async def test_a_call_honours_cancellation():
    async with pool_for({"net": network_server()}) as pool:
        tools = await by_name(pool)
        with anyio.move_on_after(0.2) as scope:
            await tools["slow"].invoke({"seconds": 30}, RunContext())
        assert scope.cancelled_caught
        assert (await call(tools["echo"], text="after")).content == [TextPart(text="after")]


async def test_allow_and_deny_lists_filter_tools():
    cfg = configs("net", allow_tools=["echo", "device_*", "fail"], deny_tools=["fail"])
    async with pool_for({"net": network_server()}, configs=cfg) as pool:
        assert set(await by_name(pool)) == {"echo", "device_status"}
        assert pool.status()[0].tool_count == 2


async def test_list_changed_notification_refreshes_the_cache():
    async with pool_for({"net": network_server()}) as pool:
        tools = await by_name(pool)
        assert "interfaces" not in tools
        await call(tools["add_tool"], name="interfaces")
        await eventually(lambda: pool.status()[0].tool_count == len(tools) + 1)
        assert "interfaces" in await by_name(pool)


async def test_listing_is_cached_until_ttl_or_refresh():
    server = network_server()
    async with pool_for({"net": server}) as pool:
        before = await by_name(pool)
        server.add_tool(lambda: "x", name="quiet", description="added without notification")
        assert set(await by_name(pool)) == set(before)  # cached (TTL 300 s)
        await pool.refresh("net")
        assert "quiet" in await by_name(pool)
    server = network_server()
    async with pool_for({"net": server}, tool_cache_ttl=0) as pool:
        await pool.list_tools()
        server.add_tool(lambda: "x", name="quiet", description="added without notification")
        assert "quiet" in await by_name(pool)  # TTL 0: every listing asks the server


async def test_a_failing_server_is_excluded_and_reported_while_others_work():
    cfg = [*configs("net"), {"name": "broken", "command": "/nonexistent/mcp-server"}]
    async with pool_for({"net": network_server()}, configs=cfg) as pool:
        status = {s.name: s for s in pool.status()}
        assert status["net"].state is ServerState.HEALTHY
        assert status["net"].last_check is not None
        assert status["broken"].state is ServerState.UNHEALTHY
        assert "No such file" in (status["broken"].last_error or "")
        assert {t.metadata["server"] for t in await pool.list_tools()} == {"net"}
        with pytest.raises(MCPConnectionError, match="'broken': not connected"):
            await pool.call_tool("broken", "anything")
        assert status["broken"].as_dict()["state"] == "unhealthy"


async def test_disabled_servers_are_never_started():
    cfg = [*configs("net"), {"name": "off", "command": "/nonexistent", "enabled": False}]
    async with pool_for({"net": network_server()}, configs=cfg) as pool:
        status = {s.name: s for s in pool.status()}
    assert status["off"].state is ServerState.DISABLED
    assert status["off"].last_error is None


async def test_pool_lifecycle_and_configuration_mistakes():
    pool = MCPClientPool()
    with pytest.raises(UserError, match="async with pool"):
        await pool.list_tools()
    async with pool:
        with pytest.raises(UserError, match="Unknown MCP server 'nope'"):
            pool.session("nope")
    with pytest.raises(UserError, match="closed"):
        async with pool:
            pass
    with pytest.raises(UserError, match="repeated: a"):
        MCPClientPool([{"name": "a", "command": "x"}, {"name": "a", "command": "y"}])
    with pytest.raises(UserError, match="Invalid MCP server configuration 'b'"):
        MCPClientPool([{"name": "b", "transport": "http"}])


async def test_the_body_exception_propagates_unwrapped_and_sessions_close():
    with pytest.raises(KeyError):
        async with pool_for({"net": network_server()}) as pool:
            raise KeyError("boom")
    assert pool.status()[0].state is ServerState.CLOSED
