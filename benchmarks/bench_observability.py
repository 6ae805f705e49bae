"""Cost of usage recording, budgets and OpenTelemetry per agent turn.

Every turn is one ``Agent.run`` of a ``FunctionModel`` that answers instantly: a model call that
asks for one tool call, the tool call, and a model call with the final answer (three records
and a run record). Variants:

- no recorder (the baseline: also what "OpenTelemetry off" costs, since nothing is wrapped);
- ``MemoryRecorder``; ``MemoryRecorder`` with a budget checked before each model call;
- ``SQLUsageRecorder`` on a SQLite file (two inserts per turn on a worker thread);
- ``OTelRecorder`` on the OpenTelemetry API's no-op providers (installed, not configured);
- ``OTelRecorder`` on SDK providers (spans to a batch processor whose exporter drops them,
  metrics aggregated by an in-memory reader).

Variants alternate with the baseline over several rounds; each figure is the median of its
rounds, and the claim is the ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["run"]

BASELINE = "no recorder (baseline; OTel off)"
Turn = Callable[[int], Awaitable[Any]]


def _reply(request: Any) -> Any:
    from aiops_core.messages import AssistantMessage, ToolCall

    if request.messages[-1].role == "tool":
        return AssistantMessage(content="core-sw-01 is up.")
    return AssistantMessage(
        tool_calls=[ToolCall(id="c1", name="device_status", arguments={"name": "core-sw-01"})]
    )


async def device_status(name: str) -> str:
    """Return a device's status."""
    return f"{name}: up"


@contextmanager
def _variants(folder: Path) -> Iterator[dict[str, Turn]]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from aiops_core import Agent, tool
    from aiops_core.catalog import ModelCatalog
    from aiops_core.providers import FunctionModel
    from aiops_core.usage import Budget, MemoryRecorder
    from aiops_core.usage.otel import OTelRecorder
    from aiops_core.usage.sql import SQLUsageRecorder

    class Drop(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Drop()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    model = FunctionModel(_reply)
    tools = [tool(device_status)]
    catalog = ModelCatalog({"function:*": {"input_price": "1", "output_price": "2"}})
    memory = MemoryRecorder()
    budgeted = MemoryRecorder()
    sql = SQLUsageRecorder(f"sqlite:///{folder / 'usage.db'}")
    agents = {
        BASELINE: Agent(model, tools=tools),
        "MemoryRecorder": Agent(model, tools=tools, recorder=memory, catalog=catalog),
        "MemoryRecorder + budget": Agent(
            model,
            tools=tools,
            recorder=budgeted,
            budgets=[Budget(Decimal(10**9))],
            catalog=catalog,
        ),
        "SQLUsageRecorder (SQLite file)": Agent(model, tools=tools, recorder=sql, catalog=catalog),
        "OTelRecorder, API no-op providers": Agent(
            model, tools=tools, recorder=OTelRecorder(), catalog=catalog
        ),
        "OTelRecorder, SDK providers": Agent(
            model,
            tools=tools,
            recorder=OTelRecorder(tracer_provider=tracer_provider, meter_provider=meter_provider),
            catalog=catalog,
        ),
    }

    def turn(agent: Any) -> Turn:
        async def one(i: int) -> Any:
            result = await agent.run(f"Is core-sw-{i:02d} up?", user="bench")
            for kept in (memory, budgeted):  # keep them (and the budget's sums) from growing
                kept.model_calls.clear()
                kept.tool_calls.clear()
                kept.runs.clear()
            return result

        return one

    try:
        yield {name: turn(agent) for name, agent in agents.items()}
    finally:
        tracer_provider.shutdown()
        meter_provider.shutdown()
        asyncio.run(sql.aclose())


async def _time(turn: Turn, turns: int, counter: itertools.count[int]) -> float:
    start = time.perf_counter()
    for _ in range(turns):
        await turn(next(counter))
    return (time.perf_counter() - start) / turns


async def _measure(variants: dict[str, Turn], turns: int, rounds: int) -> dict[str, float]:
    counter = itertools.count()
    for turn in variants.values():  # warm up imports, caches and code paths
        for _ in range(20):
            await turn(next(counter))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, turn in variants.items():
            samples[name].append(await _time(turn, turns, counter))
    return {name: statistics.median(values) for name, values in samples.items()}


def run(quick: bool = False) -> list[dict[str, Any]]:
    """Measure recording overhead per turn; ``quick`` is a smoke run of a few seconds."""
    turns, rounds = (50, 2) if quick else (200, 5)
    with tempfile.TemporaryDirectory() as folder, _variants(Path(folder)) as variants:
        per_turn = asyncio.run(_measure(variants, turns, rounds))
    base = per_turn[BASELINE]
    rows = [
        [name, round(seconds * 1e6, 1), round((seconds - base) * 1e6, 1), round(seconds / base, 3)]
        for name, seconds in per_turn.items()
    ]
    return [
        {
            "title": "Usage recording, budgets and OpenTelemetry per turn",
            "columns": ["variant", "µs per turn", "overhead µs per turn", "vs baseline"],
            "rows": rows,
            "notes": (
                f"{turns} sequential turns per round, {rounds} alternating rounds, median of "
                "rounds. A turn is two model calls (FunctionModel, instant) and one tool call: "
                "three call records and one run record. The baseline has no recorder: an agent "
                "without one wraps nothing, so OpenTelemetry off costs what the baseline does."
            ),
        }
    ]
