"""The ``nautobot_chat`` scenario is opt-in: without a scratch database it measures nothing."""

from __future__ import annotations

from benchmarks import bench_nautobot_chat


def test_without_a_scratch_database_the_scenario_reports_nothing(monkeypatch):
    monkeypatch.delenv(bench_nautobot_chat.DB_VARIABLE, raising=False)
    assert bench_nautobot_chat.run(quick=True) == []


def test_percentiles_are_the_median_and_the_95th_sample():
    samples = [float(n) for n in range(1, 101)]
    assert bench_nautobot_chat._percentiles(samples) == (50.5, 96.0)
