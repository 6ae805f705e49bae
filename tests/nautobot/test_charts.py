"""Server-side SVG bar charts: scaling, unknown values and escaping."""

from __future__ import annotations

import re
from decimal import Decimal

from aiops_nautobot.charts import Bar, bar_chart


def widths(svg: str) -> list[str]:
    return re.findall(r'<rect [^>]*width="(\d+)"', svg)


def test_bars_scale_to_the_largest_value():
    svg = bar_chart("Cost", [Bar("a", Decimal("2"), "$2"), Bar("b", Decimal("0.5"), "$0.5")])
    assert widths(svg) == ["360", "90"]
    assert 'aria-label="Cost"' in svg and "<title>Cost</title>" in svg


def test_unknown_is_drawn_empty_and_labelled_not_as_zero():
    svg = bar_chart("Cost", [Bar("priced", Decimal("1"), "$1"), Bar("unpriced", None, "unknown")])
    assert widths(svg) == ["360", "0"]
    assert 'data-value="unknown"' in svg
    assert ">unknown</text>" in svg


def test_only_unknown_values_and_no_bars():
    assert widths(bar_chart("Cost", [Bar("x", None, "unknown")])) == ["0"]
    assert "no calls in this period" in bar_chart("Cost", [])


def test_labels_and_texts_are_escaped():
    svg = bar_chart("<b>", [Bar("<script>alert(1)</script>", 1, "<img src=x>")])
    assert "<script" not in svg and "<img" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
