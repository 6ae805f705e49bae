"""Managed sessions under faults, against real stdio servers (ours and mcp-server-time)."""

from __future__ import annotations

import os
import signal

import anyio
import pytest
from tests.mcp_servers.servers import network_server
from tests.mcp_servers.support import FAST, eventually, stdio_config, time_config

from aiops_core.errors import MCPConnectionError
from aiops_core.mcp import Backoff, MCPClientPool, ServerState, memory_transport

pytestmark = pytest.mark.anyio


def state(pool: MCPClientPool, name: str) -> ServerState:
    return pool.session(name).state


async def pid_of(pool: MCPClientPool, name: str) -> int:
    result = await pool.call_tool(name, "pid")
    return int(result.content[0].text)


async def test_mcp_server_time_over_stdio_keeps_one_session_for_many_calls():
    async with MCPClientPool([time_config()], **FAST) as pool:
        tools = {t.name: t for t in await pool.list_tools()}
        assert set(tools) == {"get_current_time", "convert_time"}
        since = pool.status()[0].connected_since
        assert since is not None
        for _ in range(3):
            parts = await tools["get_current_time"].invoke({"timezone": "UTC"}, None)
            assert parts[0].data["timezone"] == "UTC"
        assert pool.status()[0].connected_since == since  # reused, not reopened


async def test_server_killed_mid_session_is_excluded_then_reconnected(mode_file):
    async with MCPClientPool([stdio_config("proc", mode_file), time_config()], **FAST) as pool:
        first = await pid_of(pool, "proc")
        since = pool.status()[0].connected_since
        os.kill(first, signal.SIGKILL)
        await eventually(lambda: state(pool, "proc") is not ServerState.HEALTHY)
        # The other server keeps working while this one is down.
        result = await pool.call_tool("time", "get_current_time", {"timezone": "UTC"})
        assert not result.is_error
        await eventually(lambda: state(pool, "proc") is ServerState.HEALTHY)
        assert await pid_of(pool, "proc") != first
        assert pool.session("proc").failures == 0
        assert pool.status()[0].connected_since != since


async def test_server_dying_mid_call_fails_the_call_fast(mode_file):
    async with MCPClientPool([stdio_config("proc", mode_file)], **FAST) as pool:
        tools = {t.name: t for t in await pool.list_tools()}
        with anyio.fail_after(10):  # a hang would trip this, not the server's 30 s timeout
            with pytest.raises(MCPConnectionError, match="connection lost"):
                await tools["crash"].invoke({}, None)
        await eventually(lambda: state(pool, "proc") is ServerState.HEALTHY)


async def test_in_flight_calls_fail_when_the_process_is_killed(mode_file):
    async with MCPClientPool([stdio_config("proc", mode_file)], **FAST) as pool:
        pid = await pid_of(pool, "proc")
        errors: list[BaseException] = []

        async def sleeper() -> None:
            try:
                await pool.call_tool("proc", "sleep", {"seconds": 60})
            except MCPConnectionError as err:
                errors.append(err)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(sleeper)
                await anyio.sleep(0.3)
                os.kill(pid, signal.SIGKILL)
        assert len(errors) == 3
        assert "'proc'" in str(errors[0])


async def test_a_server_that_never_answers_the_handshake_does_not_block_others(mode_file):
    mode_file.write_text("silent")
    async with MCPClientPool(
        [stdio_config("mute", mode_file)],
        transport_factory=memory_transport({"net": network_server()}),
        backoff=Backoff(initial=0.05, maximum=0.2, jitter=0.0),
        startup_timeout=1.0,
    ) as pool:
        status = pool.session("mute").status()
        assert status.state is ServerState.UNHEALTHY
        assert "handshake" in (status.last_error or "")
        assert await pool.list_tools() == []
        mode_file.write_text("normal")
        await eventually(lambda: state(pool, "mute") is ServerState.HEALTHY)
        assert "echo" in {t.name for t in await pool.list_tools()}


async def test_a_server_sending_invalid_json_is_marked_unhealthy_and_recovers(mode_file):
    mode_file.write_text("garbage")
    async with MCPClientPool([stdio_config("bad", mode_file)], **FAST) as pool:
        assert state(pool, "bad") is ServerState.UNHEALTHY
        assert "invalid message" in (pool.session("bad").last_error or "")
        mode_file.write_text("normal")
        await eventually(lambda: state(pool, "bad") is ServerState.HEALTHY)
        # Invalid JSON mid-session: the call fails fast, the session is rebuilt.
        with anyio.fail_after(10), pytest.raises(MCPConnectionError):
            await pool.call_tool("bad", "garble")
        await eventually(lambda: state(pool, "bad") is ServerState.HEALTHY)
        result = await pool.call_tool("bad", "echo", {"text": "back"})
        assert result.content[0].text == "back"


async def test_keepalive_ping_notices_a_dead_idle_server(mode_file):
    async with MCPClientPool([stdio_config("proc", mode_file)], ping_interval=0.1, **FAST) as pool:
        checked = pool.session("proc").last_check
        await eventually(lambda: pool.session("proc").last_check != checked)
        assert state(pool, "proc") is ServerState.HEALTHY


async def test_reconnect_on_demand(mode_file):
    slow = Backoff(initial=60.0, maximum=60.0, jitter=0.0)
    async with MCPClientPool([stdio_config("proc", mode_file)], backoff=slow) as pool:
        first = await pid_of(pool, "proc")
        pool.reconnect("proc")
        await eventually(lambda: state(pool, "proc") is not ServerState.HEALTHY)
        await eventually(lambda: state(pool, "proc") is ServerState.HEALTHY)
        assert await pid_of(pool, "proc") != first
        assert [p.text for p in (await pool.call_tool("proc", "echo", {"text": "x"})).content] == [
            "x"
        ]
