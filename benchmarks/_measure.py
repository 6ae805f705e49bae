"""Measuring turns: latency percentiles, client CPU per turn and throughput at a concurrency.

Client CPU is ``time.process_time()`` of this process around the measured turns (warm-up
excluded), divided by their number; the server runs in another process and is not counted.
Concurrency is asyncio tasks in this one process pulling turn indices from a shared counter.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import time
from dataclasses import dataclass, field

from ._clients import Turn

__all__ = [
    "TURN_INDEX",
    "Sample",
    "interleaved",
    "measure",
    "peak_rss_mb",
    "percentile",
    "rss_mb",
]


@dataclass(slots=True)
class Sample:
    """The result of running ``turns`` turns at ``concurrency``."""

    concurrency: int
    turns: int
    wall: float
    cpu: float
    latencies: list[float] = field(default_factory=list)

    @property
    def cpu_per_turn_ms(self) -> float:
        return 1000 * self.cpu / self.turns

    @property
    def throughput(self) -> float:
        return self.turns / self.wall

    @property
    def median_ms(self) -> float:
        return 1000 * statistics.median(self.latencies)

    @property
    def p95_ms(self) -> float:
        return 1000 * percentile(self.latencies, 95)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


TURN_INDEX = itertools.count()
"""Turn numbers, unique in the process: every prompt differs, so a response cache never hits."""


async def measure(turn: Turn, turns: int, concurrency: int, warmup: int | None = None) -> Sample:
    """Run ``turns`` turns with ``concurrency`` tasks after a warm-up of one round per task."""
    warmup = concurrency if warmup is None else warmup
    await asyncio.gather(*(turn(next(TURN_INDEX)) for _ in range(warmup)))
    gc.collect()
    remaining = iter(range(turns))
    latencies: list[float] = []

    async def worker() -> None:
        for _ in remaining:
            start = time.perf_counter()
            await turn(next(TURN_INDEX))
            latencies.append(time.perf_counter() - start)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return Sample(concurrency, turns, wall, cpu, latencies)


async def interleaved(
    variants: dict[str, Turn], turns: int, concurrency: int, rounds: int
) -> dict[str, Sample]:
    """Measure every variant ``rounds`` times, alternating, and merge each variant's rounds.

    Alternating spreads slow drifts of a noisy machine over all variants alike. The merged
    sample keeps every latency, and the round with the median CPU per turn for CPU and wall.
    """
    runs: dict[str, list[Sample]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, turn in variants.items():
            runs[name].append(await measure(turn, turns, concurrency))
    merged = {}
    for name, samples in runs.items():
        by_cpu = sorted(samples, key=lambda s: s.cpu)
        middle = by_cpu[len(by_cpu) // 2]
        by_wall = sorted(samples, key=lambda s: s.wall)
        merged[name] = Sample(
            concurrency,
            turns,
            by_wall[len(by_wall) // 2].wall,
            middle.cpu,
            [lat for s in samples for lat in s.latencies],
        )
    return merged


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (``VmHWM``).

    Not ``getrusage().ru_maxrss``: on Linux that survives ``exec`` and so reports the parent's
    peak when a big process spawns a small one.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def rss_mb() -> float:
    """Current resident set size of this process in MiB (Linux ``/proc``)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
