"""Smoke test of ``benchmarks/bench_middleware.py``: a quick run gives well-formed tables.

Structure only, never numbers: the performance claims live in the benchmark's own report.
"""

from __future__ import annotations

from benchmarks import bench_middleware


def test_quick_run_returns_well_formed_tables() -> None:
    tables = bench_middleware.run(quick=True)
    assert len(tables) == 2
    for table in tables:
        assert set(table) == {"title", "columns", "rows", "notes"}
        assert table["title"] and table["notes"]
        assert len(table["rows"]) == 4
        for row in table["rows"]:
            assert len(row) == len(table["columns"])
        assert table["rows"][0][0] == "no middleware (baseline)"
        assert table["rows"][0][3] == 1.0  # the baseline's ratio to itself
