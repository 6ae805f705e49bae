"""MCP faults injected while conversations run: a stdio server killed, an HTTP server stopped
and started again, a server that hangs mid-call.

The pool reconnects by itself; a tool call that hits the fault comes back to the model as a
tool error, so the turn is answered (degraded) instead of failing, and is stored whole.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import anyio
import pytest

from aiops_core import Agent, MCPClientPool, MemoryStore
from aiops_core.mcp import ServerState
from tests.mcp_servers.support import FAST, HttpServer, eventually, stdio_config

from .conftest import scaled
from .faults import inject
from .load import Load, check_threads, responder, run_load
from .report import RESULTS

pytestmark = pytest.mark.anyio

CONVERSATIONS = scaled(50)
TURNS = 6


async def mcp_load(
    name: str, pool: MCPClientPool, llm, make_model, start, until, tool_timeout: float = 1.0
) -> Load:
    llm.responder = responder("echo", "text")
    store = MemoryStore()
    agent = Agent(make_model(), tools=[pool], store=store, tool_timeout=tool_timeout)

    async def turn(thread_id: str, prompt: str) -> str:
        return str((await agent.run(prompt, thread_id=thread_id)).output)

    load = await run_load(
        name,
        turn,
        conversations=CONVERSATIONS,
        turns=TURNS,
        during=inject(start, until, after_acks=CONVERSATIONS // 2),
        pause=0.05,
    )
    stored = await check_threads(store, load)
    assert not load.errors, load.messages
    assert load.acked == stored == load.sent
    seen = f"{load.degraded} answers from a tool error, then normal answers"
    RESULTS.add_fault(name, load, seen)
    assert load.recovery() is not None, ("no normal answer after the fault", load.answers[-3:])
    return load


def healthy(pool: MCPClientPool, name: str) -> bool:
    return pool.session(name).state is ServerState.HEALTHY


async def test_stdio_server_killed_and_restarted(tmp_path: Path, llm, make_model) -> None:
    mode = tmp_path / "mode"
    mode.write_text("normal")
    async with MCPClientPool([stdio_config("proc", mode)], **FAST) as pool:
        first = int((await pool.call_tool("proc", "pid")).content[0].text)

        def kill() -> None:
            os.kill(first, signal.SIGKILL)

        async def restarted() -> None:
            await eventually(lambda: not healthy(pool, "proc"))
            await eventually(lambda: healthy(pool, "proc"))

        await mcp_load("MCP stdio server killed", pool, llm, make_model, kill, restarted)
        assert int((await pool.call_tool("proc", "pid")).content[0].text) != first


async def test_http_server_stopped_and_restarted(llm, make_model) -> None:
    server = HttpServer()
    server.start(timeout=60)
    try:
        # A busy machine may need more than FAST's 5 s for the restarted server's handshake.
        async with MCPClientPool([server.config("web")], **{**FAST, "startup_timeout": 20}) as pool:

            async def stop() -> None:
                server.stop()
                await anyio.sleep(1.0)

            async def restart() -> None:
                await anyio.to_thread.run_sync(server.start, 60)
                await eventually(lambda: healthy(pool, "web"), within=90)

            load = await mcp_load(
                "MCP HTTP server stopped 1 s", pool, llm, make_model, stop, restart, 10.0
            )
            assert load.degraded > 0  # calls during the outage answered with a tool error
    finally:
        server.stop()


async def test_a_server_hanging_mid_call(tmp_path: Path, llm, make_model) -> None:
    mode = tmp_path / "mode"
    mode.write_text("normal")
    async with MCPClientPool([stdio_config("proc", mode)], **FAST) as pool:
        pid = int((await pool.call_tool("proc", "pid")).content[0].text)

        def freeze() -> None:
            os.kill(pid, signal.SIGSTOP)

        async def thaw() -> None:
            await anyio.sleep(2.0)  # longer than the 1 s tool timeout
            os.kill(pid, signal.SIGCONT)
            await eventually(lambda: healthy(pool, "proc"))

        load = await mcp_load("MCP server hangs 2 s mid-call", pool, llm, make_model, freeze, thaw)
        assert load.degraded > 0  # the calls in flight timed out
