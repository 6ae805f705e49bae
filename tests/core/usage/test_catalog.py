"""The model catalog: lookups, overrides, validation, cost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aiops_core.catalog import DEFAULT_CATALOG, ModelCatalog, ModelInfo, call_cost
from aiops_core.errors import UserError
from aiops_core.messages import Usage


def test_lookup_order_and_unknown() -> None:
    catalog = ModelCatalog(
        {
            "gpt-x": {"input_price": 1, "output_price": 2},
            "ollama:*": {"input_price": 0, "output_price": 0},
        }
    )
    assert catalog.get("azure_openai:gpt-x").input_price == Decimal(1)
    assert catalog.get("ollama:llama3").priced
    assert catalog.get("openai:nope") == ModelInfo()
    assert catalog.cost("openai:nope", Usage(input_tokens=5)) is None


def test_overrides_replace_defaults() -> None:
    mine = DEFAULT_CATALOG.with_entries(
        {"openai:gpt-4o": {"input_price": "1.00", "output_price": "4.00"}}
    )
    assert mine.get("openai:gpt-4o").input_price == Decimal(1)
    assert mine.get("openai:gpt-4o").cached_input_price is None
    assert DEFAULT_CATALOG.get("openai:gpt-4o").input_price == Decimal("2.50")
    assert "openai:gpt-4o" in mine.models()


def test_cached_input_price_defaults_to_input_price() -> None:
    info = ModelInfo(Decimal(3), Decimal(10))
    usage = Usage(input_tokens=1_000_000, cached_tokens=500_000, output_tokens=100_000)
    # 0.5M fresh at 3, 0.5M cached at 3 (no cached price), 0.1M out at 10.
    assert call_cost(info, usage) == Decimal("1.5") + Decimal("1.5") + Decimal(1)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"input_price": -1}, "input_price must be 0 or more"),
        ({"output_price": "free"}, "output_price must be a number"),
        ({"context_window": 0}, "context_window must be a positive integer"),
        ({"input_prize": 1}, "unknown fields"),
    ],
)
def test_invalid_entries_say_what_to_change(entry: dict, problem: str) -> None:
    with pytest.raises(UserError, match=problem):
        ModelCatalog({"m": entry})
