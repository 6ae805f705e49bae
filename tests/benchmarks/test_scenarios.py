"""One quick smoke run per scenario module of this package: tables well formed (never numbers)."""

from __future__ import annotations

import importlib

import pytest
from benchmarks._report import check_table


@pytest.mark.slow
@pytest.mark.parametrize("name", ["overhead", "scale"])
def test_quick_run_returns_well_formed_tables(name: str) -> None:
    module = importlib.import_module(f"benchmarks.bench_{name}")

    tables = module.run(quick=True)

    assert tables
    for table in tables:
        assert check_table(table) == []
        assert table["rows"]


def test_thread_memory_measures_every_way_of_keeping_threads() -> None:
    from benchmarks.bench_scale import thread_memory

    memory = thread_memory(20)

    assert set(memory) == {"store", "objects", "dicts", "json"}
    assert all(value > 0 for value in memory.values())
