"""Smoke test of ``benchmarks/bench_mcp.py``: a quick run returns well-formed tables (not numbers)."""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_quick_run_returns_well_formed_tables():
    from benchmarks import bench_mcp

    tables = bench_mcp.run(quick=True)
    assert [t["title"].split(":")[0] for t in tables] == [
        "MCP tool call",
        "MCP pool overhead vs a bare ClientSession call (same server, interleaved rounds)",
    ]
    for table in tables:
        assert set(table) == {"title", "columns", "rows", "notes"}
        assert table["rows"] and table["notes"]
        for row in table["rows"]:
            assert len(row) == len(table["columns"])
            assert all(isinstance(v, int | float) and v > 0 for v in row[1:])
