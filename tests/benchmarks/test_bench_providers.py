"""Smoke test of ``benchmarks/bench_providers.py``: a quick run returns well-formed tables.

It checks structure only, never the numbers: performance claims live in ``benchmarks/``.
"""

from __future__ import annotations

import pytest

from benchmarks import bench_providers


@pytest.mark.slow
@pytest.mark.timeout(300)  # twelve variants, each against the server: minutes on a loaded machine
def test_quick_run_returns_well_formed_tables() -> None:
    tables = bench_providers.run(quick=True)
    assert len(tables) == 2
    table, responses = tables
    assert set(table) == set(responses) == {"title", "columns", "rows", "notes"}
    assert [row[0] for row in table["rows"]] == [
        "openai",
        "openai (lean transport)",
        "azure_openai",
        "anthropic",
        "ollama",
        "huggingface",
    ]
    for row in table["rows"]:
        assert len(row) == len(table["columns"])
        assert all(isinstance(value, (int, float)) for value in row[1:])
    assert [row[0] for row in responses["rows"]] == [
        label for label, _ in bench_providers.RESPONSES_VARIANTS
    ]
    for row in responses["rows"]:
        assert len(row) == len(responses["columns"])
        assert all(isinstance(value, (int, float)) for value in row[1:])
