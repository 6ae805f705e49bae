"""Middleware overhead per model call.

Every turn is one ``Agent.run`` with exactly one model call to a ``FunctionModel`` that answers
instantly, so the difference to the same run without middleware is the chain's cost per model
call (building fresh instances for the run included). Variants:

- four no-op middlewares (each overrides ``wrap_model_call`` and calls ``call_next``);
- the real ``logging`` + ``cache`` + ``retry`` + ``validation`` chain, with unique prompts so
  every cache lookup misses and stores (the expensive path), and with one repeated prompt so
  every lookup hits; logging at its default (INFO lines, the logger not enabled) and with the
  lines formatted into an in-memory handler.

Variants alternate with the baseline over several rounds; each variant's figure is the median
of its rounds. Ratios to the baseline measured in the same run are the claims.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["run"]

GOALS_US = {"4 no-op middlewares": 50.0, "logging+cache+retry+validation (miss)": 200.0}


def _noop_types() -> list[Any]:
    from aiops_core.middleware import Middleware, MiddlewareSpec

    specs = []
    for index in range(4):

        class NoOp(Middleware):
            name = f"noop{index}"

            async def wrap_model_call(self, request: Any, call_next: Any) -> Any:
                return await call_next(request)

        specs.append(MiddlewareSpec(NoOp, priority=10 + index))
    return specs


def _real_chain() -> list[Any]:
    from aiops_core.middleware import MiddlewareSpec

    return [
        MiddlewareSpec("logging", priority=10),
        MiddlewareSpec("cache", priority=20, config={"key_prefix": "bench:"}),
        MiddlewareSpec("retry", priority=30),
        MiddlewareSpec("validation", priority=40),
    ]


Turn = Callable[[int], Awaitable[Any]]


def _variants() -> dict[str, Turn]:
    from aiops_core import Agent
    from aiops_core.providers import FunctionModel

    model = FunctionModel(lambda request: "The interface is up.")
    plain = Agent(model)
    noop = Agent(model, middleware=_noop_types())
    real = Agent(model, middleware=_real_chain())

    def turn(agent: Agent, unique: bool) -> Turn:
        async def one(i: int) -> Any:
            prompt = f"Is interface Gi0/{i} on core-sw-01 up?" if unique else "Is core-sw-01 up?"
            return await agent.run(prompt)

        return one

    return {
        "no middleware (baseline)": turn(plain, True),
        "4 no-op middlewares": turn(noop, True),
        "logging+cache+retry+validation (miss)": turn(real, True),
        "logging+cache+retry+validation (hit)": turn(real, False),
    }


async def _time(turn: Turn, turns: int, counter: itertools.count[int]) -> float:
    """Seconds per turn over ``turns`` sequential turns."""
    start = time.perf_counter()
    for _ in range(turns):
        await turn(next(counter))
    return (time.perf_counter() - start) / turns


async def _measure(variants: dict[str, Turn], turns: int, rounds: int) -> dict[str, float]:
    counter = itertools.count()
    for turn in variants.values():  # warm up imports, caches and code paths
        for _ in range(50):
            await turn(next(counter))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, turn in variants.items():
            samples[name].append(await _time(turn, turns, counter))
    return {name: statistics.median(values) for name, values in samples.items()}


def _table(
    title: str, per_turn: dict[str, float], turns: int, rounds: int, note: str
) -> dict[str, Any]:
    base = per_turn["no middleware (baseline)"]
    rows = []
    for name, seconds in per_turn.items():
        us = seconds * 1e6
        overhead = us - base * 1e6
        goal = GOALS_US.get(name)
        rows.append(
            [
                name,
                round(us, 1),
                round(overhead, 1),
                round(seconds / base, 3),
                f"< {goal:.0f}" if goal else "",
                ("yes" if overhead < goal else "NO") if goal else "",
            ]
        )
    return {
        "title": title,
        "columns": [
            "variant",
            "µs per run",
            "overhead µs per model call",
            "vs baseline",
            "goal µs",
            "met",
        ],
        "rows": rows,
        "notes": (
            f"{turns} sequential runs per round, {rounds} alternating rounds, median of rounds; "
            "one model call per run (FunctionModel answering instantly), so the overhead is per "
            f"model call including the per-run build of fresh instances. {note}"
        ),
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure the chain's overhead; ``quick`` is a smoke run of a few seconds."""
    from aiops_core.middleware.cache_backends import MemoryCacheBackend, shared_cache_backend

    turns, rounds = (200, 3) if quick else (2000, 7)
    calls_logger = logging.getLogger("aiops_core.calls")
    saved = calls_logger.level, calls_logger.propagate
    tables = []
    try:
        calls_logger.setLevel(logging.WARNING)
        default = asyncio.run(_measure(_variants(), turns, rounds))
        tables.append(
            _table(
                "Middleware overhead per model call (logging lines not enabled)",
                default,
                turns,
                rounds,
                "The 'logging' middleware's INFO lines are off, as with an unconfigured logger.",
            )
        )
        sink = logging.StreamHandler(io.StringIO())
        sink.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        calls_logger.addHandler(sink)
        calls_logger.setLevel(logging.INFO)
        calls_logger.propagate = False
        try:
            logged = asyncio.run(_measure(_variants(), turns, rounds))
        finally:
            calls_logger.removeHandler(sink)
        tables.append(
            _table(
                "Middleware overhead per model call (logging lines formatted at INFO)",
                logged,
                turns,
                rounds,
                "Each model call's structured line is formatted into an in-memory handler.",
            )
        )
    finally:
        calls_logger.setLevel(saved[0])
        calls_logger.propagate = saved[1]
        backend = shared_cache_backend("memory", max_entries=1000)
        if isinstance(backend, MemoryCacheBackend):
            backend.clear()
    return tables


if __name__ == "__main__":  # pragma: no cover
    for table in run(quick=True):
        print(table["title"])
        print(table["columns"])
        for row in table["rows"]:
            print(row)
        print(table["notes"])
