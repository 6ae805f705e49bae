"""Smoke run of the agent-turn overhead scenario: tables well formed (never their numbers)."""

from __future__ import annotations

import pytest
from benchmarks._report import check_table

from benchmarks import bench_overhead


@pytest.mark.slow
def test_quick_run_returns_well_formed_tables() -> None:
    tables = bench_overhead.run(quick=True)

    titles = [t["title"] for t in tables]
    assert len(titles) == 5 and titles[-1].startswith("Agent turn: goals")
    for table in tables:
        assert check_table(table) == []
        assert table["rows"]


def test_goals_compare_the_ratios_with_their_limits() -> None:
    rows = [
        ["aiops", 1, 0, 0, 0, 0, 1.10, 0, 1.0],
        ["aiops", 50, 0, 0, 0, 0, 1.20, 0, 0.80],
    ]
    calls = [["aiops", 20000, 1.01]]

    table = bench_overhead.goals_table(rows, calls)

    met = {row[0]: row[3] for row in table["rows"]}
    assert met["client CPU per turn, no middleware (c=1)"] is True
    assert met["client CPU per turn, no middleware (c=50)"] is False
    assert met["Python calls per turn, no middleware"] is True
    assert met["throughput at concurrency 50, no middleware"] is False
    # Variants that were not measured are reported as unknown, not as met.
    assert met["client CPU per turn, 4 middleware + memory store (c=1)"] is None
