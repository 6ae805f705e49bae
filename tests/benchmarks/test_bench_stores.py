"""Smoke test of ``benchmarks/bench_stores.py``: a quick run returns well-formed tables.

It checks structure only, never numbers: performance claims live in ``benchmarks/``.
"""

from __future__ import annotations

import pytest


@pytest.mark.slow
def test_quick_run_returns_well_formed_tables() -> None:
    from benchmarks import bench_stores

    tables = bench_stores.run(quick=True)
    assert len(tables) == 5
    for table in tables:
        assert set(table) == {"title", "columns", "rows", "notes"}
        assert table["title"] and isinstance(table["notes"], str)
        assert table["rows"], table["title"]
        for row in table["rows"]:
            assert len(row) == len(table["columns"])
    stores = {row[0] for row in tables[0]["rows"]}
    assert {"memory", "sqlite"} <= stores
