"""The Nautobot app's event-loop bridge: one long-lived loop versus a loop per request.

Django views are synchronous. The naive way to run the async engine from a view is
``asyncio.run(...)`` per request, which also means opening the MCP sessions (a process spawn and a
handshake for stdio servers) on every request. The app instead keeps one loop per process
(:class:`aiops_nautobot.services.engine_loop.EngineLoop`) and leases a persistent
:class:`~aiops_core.mcp.MCPClientPool` from it.

Table 1: one agent turn (a function model → ``get_current_time`` on ``mcp-server-time`` over stdio →
answer), submitted from sync code, both ways. Table 2: the bridge's own cost for an empty
coroutine (``EngineLoop.run`` versus ``asyncio.run``). Django itself is not involved.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from aiops_core import Agent, MCPClientPool, MCPServerConfig
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage
from aiops_core.providers import FunctionModel, ModelRequest
from aiops_nautobot.services.engine_loop import EngineLoop

TIME = MCPServerConfig(
    name="time",
    transport="stdio",
    command=sys.executable,
    args=["-m", "mcp_server_time", "--local-timezone", "UTC"],
)


def _median_ms(call: Callable[[], Any], count: int) -> float:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return 1000 * statistics.median(samples)


def _reply(request: ModelRequest) -> AssistantMessage:
    last = request.messages[-1]
    if isinstance(last, ToolResultMessage):
        return AssistantMessage(content=f"It is {last.text}")
    call = ToolCall(id="call_1", name="get_current_time", arguments={"timezone": "UTC"})
    return AssistantMessage(tool_calls=[call])


STREAM_ITEMS = 1000


async def _items(count: int) -> Any:
    for i in range(count):
        await asyncio.sleep(0)
        yield i


def _model() -> FunctionModel:
    return FunctionModel(_reply)


async def _turn_with_pool(pool: MCPClientPool) -> Any:
    return await Agent(_model(), tools=[pool]).run("What time is it?")


async def _turn_fresh() -> Any:
    async with MCPClientPool([TIME]) as pool:
        return await _turn_with_pool(pool)


def run(quick: bool = False) -> list[dict]:
    turns = 3 if quick else 30
    empties = 200 if quick else 2000
    engine = EngineLoop(name="bench-engine-loop")
    try:

        async def leased_turn() -> Any:
            async with engine.lease("mcp", 1, lambda: MCPClientPool([TIME])) as pool:
                return await _turn_with_pool(pool)

        engine.run(leased_turn(), timeout=60)  # open the pool once, as the first request does
        persistent = _median_ms(lambda: engine.run(leased_turn(), timeout=60), turns)
        per_request = _median_ms(lambda: asyncio.run(_turn_fresh()), max(2, turns // 3))

        async def empty() -> None:
            return None

        bridged = _median_ms(lambda: engine.run(empty(), timeout=10), empties)
        new_loop = _median_ms(lambda: asyncio.run(empty()), empties)

        async def collect() -> list[int]:
            return [item async for item in _items(STREAM_ITEMS)]

        rounds = 5 if quick else 30
        streamed = _median_ms(
            lambda: list(engine.iterate(_items(STREAM_ITEMS), timeout=30)), rounds
        )
        collected = _median_ms(lambda: engine.run(collect(), timeout=30), rounds)
    finally:
        engine.shutdown()
    return [
        {
            "title": "Agent turn with one MCP tool call, submitted from sync code",
            "columns": ["variant", "median ms", "ratio vs engine loop"],
            "rows": [
                ["EngineLoop + leased persistent pool", round(persistent, 2), 1.0],
                [
                    "asyncio.run + new pool per request",
                    round(per_request, 2),
                    round(per_request / persistent, 1),
                ],
            ],
            "notes": "function model, mcp-server-time over stdio; the per-request variant spawns the "
            "server and does the MCP handshake every time.",
        },
        {
            "title": "Bridge cost of an empty coroutine",
            "columns": ["variant", "median ms", "ratio vs engine loop"],
            "rows": [
                ["EngineLoop.run", round(bridged, 4), 1.0],
                ["asyncio.run", round(new_loop, 4), round(new_loop / bridged, 1)],
            ],
            "notes": "thread hand-off to the long-lived loop versus creating and closing a loop.",
        },
        {
            "title": f"Streaming {STREAM_ITEMS} items from the loop to sync code",
            "columns": ["variant", "median ms", "ratio vs collected on the loop"],
            "rows": [
                ["collected on the loop, one hand-off", round(collected, 3), 1.0],
                [
                    "EngineLoop.iterate (item by item to the caller)",
                    round(streamed, 3),
                    round(streamed / collected, 1),
                ],
            ],
            "notes": "iterate moves items through a bounded anyio memory object stream and "
            "hands them over in batches; the baseline gathers the same generator on the loop.",
        },
    ]


if __name__ == "__main__":
    for table in run(quick="--quick" in sys.argv):
        print(table["title"])
        for row in table["rows"]:
            print("  ", row)
