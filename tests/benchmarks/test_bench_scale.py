"""Smoke run of the scale scenario, and its idle-thread memory measurement."""

from __future__ import annotations

import pytest
from benchmarks._report import check_table

from benchmarks import bench_scale


@pytest.mark.slow
def test_quick_run_returns_well_formed_tables() -> None:
    tables = bench_scale.run(quick=True)

    assert len(tables) == 3
    for table in tables:
        assert check_table(table) == []
        assert table["rows"]


@pytest.mark.slow
def test_thread_memory_measures_every_way_of_keeping_threads() -> None:
    memory = bench_scale.thread_memory(20)

    assert set(memory) == {"store", "objects", "dicts", "json"}
    assert all(value > 0 for value in memory.values())


def test_conversations_have_twenty_messages_unique_per_thread() -> None:
    first, second = bench_scale.conversation(1), bench_scale.conversation(2)

    assert sum(len(turn) for turn in first) == bench_scale.MESSAGES_PER_THREAD
    assert first[0][0].content != second[0][0].content


@pytest.mark.slow
def test_rss_probe_reports_its_own_peak_not_the_parents() -> None:
    from benchmarks._server import serve_openai

    ballast = b"\x01" * (
        300 * 2**20
    )  # resident: the parent's peak must not leak into the child's figure
    with serve_openai(latency=0.0, cpu=None) as url:
        result = bench_scale.probe_rss("raw", url, 5)
    del ballast

    assert 0 < result["idle"] <= result["peak"] < 250
