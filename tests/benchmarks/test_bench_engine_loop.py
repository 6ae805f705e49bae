"""Smoke test of ``benchmarks/bench_engine_loop.py``: a quick run returns well-formed tables."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_quick_run_returns_well_formed_tables():
    from benchmarks import bench_engine_loop

    tables = bench_engine_loop.run(quick=True)
    assert [t["title"] for t in tables] == [
        "Agent turn with one MCP tool call, submitted from sync code",
        "Bridge cost of an empty coroutine",
        "Streaming 1000 items from the loop to sync code",
    ]
    for table in tables:
        assert set(table) == {"title", "columns", "rows", "notes"}
        assert table["rows"] and table["notes"]
        for row in table["rows"]:
            assert len(row) == len(table["columns"])
            assert all(isinstance(v, int | float) and v > 0 for v in row[1:])
