"""Smoke test of ``benchmarks/bench_long_conversation.py``: a short run gives well-formed tables.

It checks structure and the token accounting's direction only, never timings: performance
claims live in ``benchmarks/``.
"""

from __future__ import annotations

import anyio
import pytest


@pytest.mark.slow
def test_short_run_returns_well_formed_tables() -> None:
    from benchmarks._report import check_table

    from benchmarks import bench_long_conversation as bench

    flat, tokens = anyio.run(bench.tables, 12, ("memory",))
    for table in (flat, tokens):
        assert check_table(table) == []
    assert [row[:2] for row in flat["rows"]] == [
        ["memory", f"last {bench.LIMIT}"],
        ["memory", "whole thread"],
        ["memory", f"summarize, window {bench.SUMMARY_WINDOW:,}"],
    ]
    ratios = {(row[0], row[1]): row[-1] for row in tokens["rows"]}
    for provider in ("anthropic", "openai"):
        naive, cached, limited, summarized = (v for (p, _), v in ratios.items() if p == provider)
        assert max(cached, limited, summarized) < 0.5
        if provider == "anthropic":
            # Anthropic caches only at breakpoints: without them nothing is discounted.
            assert naive == 1.0
        else:
            assert naive < 0.5  # OpenAI caches long prefixes by itself, key or not
