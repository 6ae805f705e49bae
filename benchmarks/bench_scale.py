"""Scale: memory of idle threads, peak memory under concurrent runs, throughput by concurrency.

1. Memory per 1,000 idle threads of 20 messages held in ``MemoryStore`` (traced allocations,
   after a garbage collection), next to the same conversations kept as OpenAI wire-format dicts.
2. Peak RSS of a fresh process running 200 turns at once (the server holds each answer for
   100 ms so that all of them are in flight together): raw SDK vs aiops.
3. Throughput (turns per second) as concurrency grows, with 20 ms of simulated model time per call.

Run ``python -m benchmarks.bench_scale probe raw|aiops|aiops-store URL COUNT`` to see one probe.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from typing import Any

from ._clients import aiops_agent, aiops_model, aiops_turn, openai_client, raw_turn
from ._measure import interleaved, peak_rss_mb, rss_mb
from ._server import serve_openai

__all__ = ["conversation", "run", "thread_memory"]

MESSAGES_PER_THREAD = 20
CONCURRENT_RUNS = 200
PROBES = ("raw", "aiops", "aiops-store")


def conversation(index: int) -> list[list[Any]]:
    """Five turns (user, assistant tool call, tool result, assistant answer) as aiops messages.

    Content is unique per thread (as real conversations are), so nothing is shared by interning.
    """
    from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage, UserMessage
    from aiops_core.tools import to_content

    device = f"core-sw-{index:05d}"
    turns = []
    for n in range(MESSAGES_PER_THREAD // 4):
        call = ToolCall(id=f"call_{index}_{n}", name="device_status", arguments={"name": device})
        result = {"device": device, "status": "up", "interfaces_up": 48 - n, "cpu_percent": 12 + n}
        turns.append(
            [
                UserMessage(content=f"Is {device} up? Ticket {index}-{n}."),
                AssistantMessage(tool_calls=[call]),
                ToolResultMessage(tool_call_id=call.id, name=call.name, content=to_content(result)),
                AssistantMessage(
                    content=f"{device} is up: {48 - n} interfaces are operational and the CPU "
                    f"load is {12 + n}%."
                ),
            ]
        )
    return turns


def _wire(turns: list[list[Any]]) -> list[dict[str, Any]]:
    """The same conversation as the OpenAI wire-format dicts a hand-written app would keep."""
    out: list[dict[str, Any]] = []
    for user, call_msg, result, answer in turns:
        call = call_msg.tool_calls[0]
        out += [
            {"role": "user", "content": user.content},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": result.tool_call_id, "content": result.text},
            {"role": "assistant", "content": answer.content},
        ]
    return out


def _traced(build: Any) -> tuple[float, Any]:
    """Bytes still allocated by ``build()`` after a collection, and what it returned."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, kept


def thread_memory(threads: int) -> dict[str, float]:
    """MiB per 1,000 threads: MemoryStore, wire-format dicts, and the messages' JSON size."""
    from aiops_core.checkpoint import MemoryStore
    from aiops_core.messages import dump_message

    def fill_store() -> Any:
        store = MemoryStore()

        async def fill() -> None:
            for i in range(threads):
                # Build the messages inside the traced block: the store holds the only reference.
                for turn in conversation(i):
                    await store.append(f"thread-{i}", turn, owner="alice", title="Is it up?")

        asyncio.run(fill())
        return store

    store_bytes, store = _traced(fill_store)
    objects_bytes, kept = _traced(
        lambda: {f"thread-{i}": [m for t in conversation(i) for m in t] for i in range(threads)}
    )
    del kept
    count = asyncio.run(store.count())
    if count != threads:
        raise RuntimeError(f"expected {threads} threads in the store, found {count}")
    del store
    # Built inside the traced block too: only what the dicts keep alive is counted.
    dict_bytes, kept = _traced(
        lambda: {f"thread-{i}": _wire(conversation(i)) for i in range(threads)}
    )
    del kept
    json_bytes = sum(
        len(dump_message(m)) for i in range(threads) for turn in conversation(i) for m in turn
    )
    per = 1000 / threads / 2**20
    return {
        "store": store_bytes * per,
        "objects": objects_bytes * per,
        "dicts": dict_bytes * per,
        "json": json_bytes * per,
    }


# --------------------------------------------------------------------------- peak RSS probe


async def _probe(kind: str, url: str, count: int) -> dict[str, float]:
    from aiops_core.checkpoint import MemoryStore

    if kind == "raw":
        client = openai_client(url)
        turn = raw_turn(client)
        close = client.close
    else:
        model, _, close = aiops_model(url)
        store = MemoryStore() if kind == "aiops-store" else None
        turn = aiops_turn(aiops_agent(model, store=store), threads="t-" if store else None)
    await asyncio.gather(*(turn(-i) for i in range(1, 11)))  # warm up: imports, pools
    gc.collect()
    idle = rss_mb()
    await asyncio.gather(*(turn(i) for i in range(count)))
    peak = peak_rss_mb()
    await close()
    return {"idle": idle, "peak": peak}


def probe_rss(kind: str, url: str, count: int) -> dict[str, float]:
    """Idle and peak RSS (MiB) of a fresh interpreter running ``count`` turns at once."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_scale", "probe", kind, url, str(count)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- scenario


def _memory_table(quick: bool) -> dict[str, Any]:
    threads = 300 if quick else 10_000
    mem = thread_memory(threads)
    return {
        "title": f"Idle threads: memory per 1,000 threads of {MESSAGES_PER_THREAD} messages",
        "columns": ["kept as", "MiB per 1,000 threads", "ratio to wire dicts"],
        "rows": [
            ["aiops MemoryStore", round(mem["store"], 2), round(mem["store"] / mem["dicts"], 3)],
            [
                "aiops typed message objects (a loaded thread)",
                round(mem["objects"], 2),
                round(mem["objects"] / mem["dicts"], 3),
            ],
            ["OpenAI wire-format dicts (baseline)", round(mem["dicts"], 2), 1.0],
            [
                "their JSON text (dump_message), for scale",
                round(mem["json"], 2),
                round(mem["json"] / mem["dicts"], 3),
            ],
        ],
        "notes": (
            f"{threads:,} threads measured with tracemalloc after gc; goal: under 10 MiB per 1,000 "
            "idle in-memory threads. Each thread: 5 turns of user, tool call, tool result "
            "(a dict), answer; content unique per thread."
        ),
    }


def _rss_table(url: str, quick: bool) -> dict[str, Any]:
    count = 20 if quick else CONCURRENT_RUNS
    results = {kind: probe_rss(kind, url, count) for kind in PROBES}
    raw = results["raw"]
    raw_growth = max(raw["peak"] - raw["idle"], 0.01)
    labels = {"raw": "raw openai SDK", "aiops": "aiops", "aiops-store": "aiops + memory store"}
    rows = []
    for kind, res in results.items():
        growth = res["peak"] - res["idle"]
        rows.append(
            [
                labels[kind],
                round(res["idle"], 1),
                round(res["peak"], 1),
                round(growth, 1),
                round(res["peak"] / raw["peak"], 3),
                round(growth / raw_growth, 3),
            ]
        )
    return {
        "title": f"Peak RSS with {count} concurrent turns (fresh process each)",
        "columns": [
            "variant",
            "idle MiB",
            "peak MiB",
            "growth MiB",
            "peak vs raw",
            "growth vs raw",
        ],
        "rows": rows,
        "notes": "Idle: after imports and 10 warm-up turns. Server holds each answer 100 ms.",
    }


def _throughput_table(url: str, quick: bool) -> dict[str, Any]:
    levels = (1, 10) if quick else (1, 10, 50, 100, 200)
    rounds = 1 if quick else 3

    async def sweep() -> list[list[Any]]:
        client = openai_client(url)
        model, _, close_model = aiops_model(url)
        rows = []
        try:
            variants = {"raw": raw_turn(client), "aiops": aiops_turn(aiops_agent(model))}
            for c in levels:
                turns = max(c * (2 if quick else 4), 20 if quick else 100)
                s = await interleaved(variants, turns, c, rounds)
                raw, ours = s["raw"], s["aiops"]
                rows.append(
                    [
                        c,
                        round(raw.throughput, 1),
                        round(ours.throughput, 1),
                        round(ours.throughput / raw.throughput, 3),
                        round(raw.median_ms, 2),
                        round(ours.median_ms, 2),
                    ]
                )
        finally:
            await client.close()
            await close_model()
        return rows

    return {
        "title": "Throughput as concurrency grows (20 ms simulated model time per call)",
        "columns": [
            "concurrency",
            "raw turns/s",
            "aiops turns/s",
            "aiops vs raw",
            "raw median ms",
            "aiops median ms",
        ],
        "rows": asyncio.run(sweep()),
        "notes": "One client process, asyncio tasks; two model calls per turn.",
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Scenario entry point (see the module docstring)."""
    tables = [_memory_table(quick)]
    with serve_openai(latency=0.1) as url:
        tables.append(_rss_table(url, quick))
    with serve_openai(latency=0.02) as url:
        tables.append(_throughput_table(url, quick))
    return tables


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "probe":
    if sys.argv[2] not in PROBES:
        sys.exit(f"probe kind must be one of {', '.join(PROBES)}")
    print(json.dumps(asyncio.run(_probe(sys.argv[2], sys.argv[3], int(sys.argv[4])))))
