"""Smoke test of ``benchmarks/bench_observability.py``: a quick run gives a well-formed table.

Structure only, never numbers: the performance claims live in the benchmark's own report.
"""

from __future__ import annotations

from benchmarks import bench_observability


def test_quick_run_returns_a_well_formed_table() -> None:
    (table,) = bench_observability.run(quick=True)
    assert set(table) == {"title", "columns", "rows", "notes"}
    assert len(table["rows"]) == 6
    for row in table["rows"]:
        assert len(row) == len(table["columns"])
    assert table["rows"][0][0] == bench_observability.BASELINE
    assert table["rows"][0][3] == 1.0
