"""Horizontal bar charts as inline SVG, rendered on the server (no script, no CDN).

A chart is a list of :class:`Bar` (label, value, text shown); :func:`bar_chart` scales the
bars to the largest value. Bars whose value is unknown (``None``) are drawn empty with their
text (for instance "unknown" for a cost without a price), never as a zero-length known value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

__all__ = ["Bar", "bar_chart"]

_ROW = 22
_LABEL_WIDTH = 240
_BAR_WIDTH = 360
_WIDTH = _LABEL_WIDTH + _BAR_WIDTH + 140


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: its ``label``, its ``value`` (``None``: unknown) and the ``text`` shown."""

    label: str
    value: float | Decimal | None
    text: str


def bar_chart(title: str, bars: Sequence[Bar]) -> SafeString:
    """An accessible ``<svg>`` (role ``img``, titled) with one labelled bar per entry."""
    if not bars:
        return format_html('<p class="text-muted">{}: no calls in this period.</p>', title)
    top = max((float(b.value) for b in bars if b.value is not None), default=0.0)
    rows = []
    for i, bar in enumerate(bars):
        y = i * _ROW
        width = 0 if bar.value is None or top <= 0 else round(float(bar.value) / top * _BAR_WIDTH)
        rows.append(
            (
                y + 15,
                bar.label[:32],
                _LABEL_WIDTH,
                y + 3,
                width,
                "unknown" if bar.value is None else "known",
                _LABEL_WIDTH + width + 6,
                y + 15,
                bar.text,
            )
        )
    body = format_html_join(
        "",
        '<g class="aiops-bar"><text x="0" y="{}" font-size="12" fill="currentColor">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="16" fill="#2c7fb8" data-value="{}"></rect>'
        '<text x="{}" y="{}" font-size="12" fill="currentColor" class="aiops-bar-value">{}</text>'
        "</g>",
        rows,
    )
    height = len(bars) * _ROW + 4
    return format_html(
        '<svg class="aiops-chart" role="img" aria-label="{}" width="100%" '
        'viewBox="0 0 {} {}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>{}</svg>',
        title,
        _WIDTH,
        height,
        title,
        body,
    )
