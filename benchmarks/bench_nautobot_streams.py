"""Concurrent streaming chats one Nautobot worker process holds, and the latency they add.

Opt-in like ``nautobot_chat``: set ``AIOPS_BENCH_NAUTOBOT_DB`` to a scratch, migrated PostgreSQL
database. A real Nautobot is served by uWSGI (``nautobot-server start``, as Nautobot deploys it)
with **one worker process** of 64 threads, the memory checkpoint store and one HTTP MCP server; the
``openai`` provider points at the local wire-format server (:mod:`tests.servers.llm`) in a process
of its own, which waits ``MODEL_SECONDS`` before it streams each answer (a model thinking).

At each level, that many clients open streaming chats at once (``stream: true``, server-sent
events) and read them to the end, a few rounds each. A chat's *added latency* is its whole
duration minus the model's own ``MODEL_SECONDS``: the server's middleware, configuration reads,
the engine-loop hop, the stream and the conversation record. The table reports it at p50 and p95
per level, and the time to the first SSE event; the goal is p95 under 50 ms while one process
holds the level's chats at once.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

DB_VARIABLE = "AIOPS_BENCH_NAUTOBOT_DB"
MODEL_SECONDS = 1.0
THREADS = 64
GOAL_MS = 50.0

_LLM = """
import sys, threading
from tests.servers.llm import Hang, LLMServer, Reply
text = "All 48 interfaces of ams01-core-01 are up; none is down. " * 4
server = LLMServer(
    responder=lambda route, body: Hang({seconds}, Reply(text=text, chunk=16)), record=False
).start()
print(server.url.rsplit(":", 1)[1], flush=True)
threading.Event().wait()
"""


def _start_llm() -> tuple[subprocess.Popen[str], str]:
    root = Path(__file__).resolve().parents[1]
    process = subprocess.Popen(
        [sys.executable, "-c", _LLM.format(seconds=MODEL_SECONDS)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    port = process.stdout.readline().strip()
    if not port.isdigit():
        process.kill()
        raise RuntimeError("the fake provider did not start")
    return process, f"http://127.0.0.1:{port}"


async def _chat(client: Any, url: str, token: str) -> tuple[float, float]:
    """One streaming chat read to its end: (seconds to the first event, whole seconds)."""
    start, first = time.perf_counter(), None
    headers = {"Authorization": f"Token {token}", "Accept": "text/event-stream"}
    body = {"message": "which interfaces on ams01-core-01 are down?", "stream": True}
    async with client.stream("POST", url, json=body, headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"chat answered {response.status_code}: {await response.aread()!r}")
        failed = False
        async for line in response.aiter_lines():
            if first is None and line.startswith("event:"):
                first = time.perf_counter() - start
            if failed and line.startswith("data:"):
                raise RuntimeError(f"the chat stream reported an error: {line[5:].strip()}")
            failed = failed or line.startswith("event: error")
    return first or 0.0, time.perf_counter() - start


async def _level(url: str, token: str, chats: int, rounds: int) -> list[tuple[float, float]]:
    import anyio
    import httpx2

    samples: list[tuple[float, float]] = []
    limits = httpx2.Limits(max_connections=chats, max_keepalive_connections=0)
    async with httpx2.AsyncClient(timeout=120, limits=limits) as client:
        for _ in range(rounds):

            async def one() -> None:
                samples.append(await _chat(client, url, token))

            async with anyio.create_task_group() as group:
                for _ in range(chats):
                    group.start_soon(one)
    return samples


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000


def run(quick: bool = False) -> list[dict]:
    database = os.environ.get(DB_VARIABLE)
    if not database:
        return []
    import anyio
    from tests.mcp_servers.support import HttpServer
    from tests.reliability.nautobot_server import NautobotServer

    levels = (1, 8, 16, 32) if quick else (1, 8, 16, 32, 48, 64)
    rounds = 2 if quick else 4
    llm, llm_url = _start_llm()
    mcp = HttpServer()
    tag = f"bench{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as folder:
        server = NautobotServer(
            Path(folder),
            llm=llm_url,
            mcp="",
            store="memory://",
            tag=tag,
            processes=1,
            threads=THREADS,
            database=database,
        )
        rows = []
        try:
            mcp.start(timeout=60)
            server.mcp = mcp.url
            server.start()
            url = f"{server.url}/api/plugins/ai-ops/chat/"
            anyio.run(_level, url, server.token, 2, 2)  # warm: the pools, the first imports
            for chats in levels:
                samples = anyio.run(_level, url, server.token, chats, rounds)
                firsts, wholes = zip(*samples, strict=True)
                added_p50, added_p95 = _ms([w - MODEL_SECONDS for w in wholes])
                first_p50, first_p95 = _ms(list(firsts))
                rows.append(
                    [
                        chats,
                        len(samples),
                        round(added_p50, 1),
                        round(added_p95, 1),
                        round(first_p50, 1),
                        round(first_p95, 1),
                        "yes" if added_p95 < GOAL_MS else "no",
                    ]
                )
        finally:
            server.stop()
            mcp.stop()
            llm.kill()
            llm.wait(timeout=10)
    held = max((row[0] for row in rows if row[-1] == "yes"), default=0)
    return [
        {
            "title": "Concurrent streaming chats in one Nautobot worker process",
            "columns": [
                "chats at once",
                "chats",
                "added p50 ms",
                "added p95 ms",
                "first event p50 ms",
                "first event p95 ms",
                f"p95 added < {GOAL_MS:.0f} ms",
            ],
            "rows": rows,
            "notes": f"uWSGI, 1 process x {THREADS} threads, memory store, one HTTP MCP server; "
            f"the model waits {MODEL_SECONDS:.0f} s, then streams its answer; added = whole chat "
            f"minus that second. Held within the goal: {held} chats at once.",
        }
    ]
