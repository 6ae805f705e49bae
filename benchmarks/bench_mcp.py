"""MCP: a tool call through the pool's persistent session versus a new session per call.

Table 1 compares the median latency of ``get_current_time`` on ``mcp-server-time`` (stdio) through
:class:`~aiops_core.mcp.MCPClientPool` (one session, opened once) with opening a new stdio session
for every call (spawn, handshake, call, shutdown), which is what libraries without a pool do.

Table 2 is the pool's own cost: the same call through the pool's ``Tool`` (session lookup, error
mapping, content conversion) versus a bare ``ClientSession.call_tool`` on a session of its own,
interleaved in rounds, on the stdio server and on an in-memory server (no process, no pipes), where
the pool's share is the largest it can be.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from aiops_core.context import RunContext
from aiops_core.mcp import MCPClientPool, MCPServerConfig, memory_transport, open_transport

TIME_ARGS = ["-m", "mcp_server_time", "--local-timezone", "UTC"]
ARGS = {"timezone": "UTC"}


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return 1000 * statistics.median(ordered), 1000 * p95


async def _timed(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


async def _interleaved(
    variants: dict[str, Callable[[], Awaitable[Any]]], count: int, rounds: int
) -> dict[str, list[float]]:
    """Alternate the variants in rounds so machine noise hits them alike."""
    out: dict[str, list[float]] = {name: [] for name in variants}
    for call in variants.values():  # warm-up
        await _timed(call, 5)
    per_round = max(1, count // rounds)
    for _ in range(rounds):
        for name, call in variants.items():
            out[name].extend(await _timed(call, per_round))
    return out


def _time_config() -> MCPServerConfig:
    return MCPServerConfig(name="time", command=sys.executable, args=TIME_ARGS)


async def _new_session_call() -> None:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable, args=TIME_ARGS)
    with open(os.devnull, "w") as errlog:  # noqa: ASYNC230 - /dev/null never blocks
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            await session.call_tool("get_current_time", ARGS)


def _memory_server() -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("mem")

    @server.tool()
    def get_current_time(timezone: str) -> dict[str, str]:
        """The time."""
        return {"timezone": timezone, "datetime": "2026-11-26T00:00:00+00:00"}

    return server


async def _overhead(pool: MCPClientPool, transport: Any, label: str, count: int) -> list[list[Any]]:
    """Pool Tool.invoke versus a bare ClientSession on its own connection to the same server."""
    from mcp import ClientSession

    (tool,) = [t for t in await pool.list_tools() if t.name == "get_current_time"]
    ctx = RunContext()
    config = pool.session(pool.servers[0]).config
    async with (
        (transport or open_transport)(config) as (read, write),
        ClientSession(read, write) as bare,
    ):
        await bare.initialize()
        await bare.list_tools()
        results = await _interleaved(
            {
                "bare": lambda: bare.call_tool("get_current_time", ARGS),
                "pool": lambda: tool.invoke(ARGS, ctx),
            },
            count,
            rounds=10,
        )
    bare_median, bare_p95 = _stats(results["bare"])
    pool_median, pool_p95 = _stats(results["pool"])
    return [
        [
            f"{label}: bare ClientSession.call_tool",
            len(results["bare"]),
            round(bare_median, 3),
            round(bare_p95, 3),
            1.0,
        ],
        [
            f"{label}: pool tool (MCPClientPool)",
            len(results["pool"]),
            round(pool_median, 3),
            round(pool_p95, 3),
            round(pool_median / bare_median, 2),
        ],
    ]


async def _main(quick: bool) -> list[dict[str, Any]]:
    pooled_calls, fresh_calls, overhead_calls = (30, 2, 200) if quick else (300, 10, 2000)

    open_start = time.perf_counter()
    async with MCPClientPool([_time_config()], startup_timeout=30) as pool:
        open_ms = 1000 * (time.perf_counter() - open_start)
        (tool,) = [t for t in await pool.list_tools() if t.name == "get_current_time"]
        ctx = RunContext()
        await _timed(lambda: tool.invoke(ARGS, ctx), 5)
        pooled = await _timed(lambda: tool.invoke(ARGS, ctx), pooled_calls)
        rows = await _overhead(pool, None, "stdio", overhead_calls)
    fresh = await _timed(_new_session_call, fresh_calls)
    pooled_median, pooled_p95 = _stats(pooled)
    fresh_median, fresh_p95 = _stats(fresh)
    table1 = {
        "title": "MCP tool call: persistent pool session vs a new stdio session per call",
        "columns": ["mode", "calls", "median ms", "p95 ms", "ratio vs pool"],
        "rows": [
            [
                "pool (session opened once)",
                len(pooled),
                round(pooled_median, 3),
                round(pooled_p95, 3),
                1.0,
            ],
            [
                "new session per call",
                len(fresh),
                round(fresh_median, 1),
                round(fresh_p95, 1),
                round(fresh_median / pooled_median, 1),
            ],
        ],
        "notes": (
            "mcp-server-time over stdio, tool get_current_time. A new session spawns the server, "
            "does the handshake, calls once and shuts down; the pool paid that once "
            f"({open_ms:.0f} ms to open) and reuses the session."
        ),
    }

    memory = MCPServerConfig(name="mem", command="in-memory")
    transport = memory_transport({"mem": _memory_server()})
    async with MCPClientPool([memory], transport_factory=transport) as pool:
        rows += await _overhead(pool, transport, "in-memory", overhead_calls)
    table2 = {
        "title": "MCP pool overhead vs a bare ClientSession call (same server, interleaved rounds)",
        "columns": ["path", "calls", "median ms", "p95 ms", "ratio vs bare"],
        "rows": rows,
        "notes": (
            "The pool's tool adds the session lookup, error mapping and conversion of the result "
            "to aiops content parts. In-memory rows have no process or pipe in the way, so they "
            "show the largest share the pool can take."
        ),
    }
    return [table1, table2]


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Benchmark-module contract: tables comparing against baselines measured in this run."""
    return anyio.run(_main, quick)


if __name__ == "__main__":  # pragma: no cover
    for table in run(quick="--quick" in sys.argv):
        print(table["title"])
        for row in [table["columns"], *table["rows"]]:
            print("  ".join(str(c) for c in row))
        print(table["notes"], "\n")
