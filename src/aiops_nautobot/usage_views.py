"""The "Usage & cost" dashboard and the tool analytics page (read-only summaries).

Both pages need the *view* permission on the records they summarise and count only the rows the
user's object permissions allow (``.restrict(user, "view")``): a permission constrained by
``{"user": "$user"}`` shows a user their own calls only. A sum over calls without a price is
shown as "unknown", never as 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Avg, Count, FloatField, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.shortcuts import render
from django.utils import timezone
from django.views.generic import View
from nautobot.apps.views import ObjectPermissionRequiredMixin

from .charts import Bar, bar_chart
from .models import ToolUsageRecord, UsageRecord
from .tables import format_cost
from .usage_forms import UsagePeriodForm

__all__ = ["ToolAnalyticsView", "UsageDashboardView", "tool_analytics", "usage_summary"]

DEFAULT_DAYS = 30
TOOL_OK_OUTCOMES = ("ok", "paused")
"""Tool outcomes that are not failures (a paused call waits for an approval)."""


class Percentile(Aggregate):
    """PostgreSQL's ``percentile_cont(p) WITHIN GROUP (ORDER BY expr)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, percentile: float, **extra: Any) -> None:
        super().__init__(expression, percentile=float(percentile), **extra)


@dataclass(frozen=True, slots=True)
class UsageGroup:
    """Calls of one model, user or day."""

    key: str
    calls: int
    errors: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost: Decimal | None
    unpriced_calls: int

    @property
    def cost_text(self) -> str:
        """``$1.2300``, ``$1.2300 + 2 calls of unknown cost`` or ``unknown``."""
        if self.cost is None:
            return format_cost(None)
        if self.unpriced_calls:
            return f"{format_cost(self.cost)} + {self.unpriced_calls} of unknown cost"
        return format_cost(self.cost)


_AGGREGATES = {
    "n_calls": Count("pk"),
    "n_errors": Count("pk", filter=~Q(outcome="ok")),
    "n_unpriced": Count("pk", filter=Q(cost__isnull=True)),
    "sum_input": Sum("input_tokens"),
    "sum_output": Sum("output_tokens"),
    "sum_cached": Sum("cached_tokens"),
    "sum_cost": Sum("cost"),
}


def _group(key: str, row: dict[str, Any]) -> UsageGroup:
    return UsageGroup(
        key=key,
        calls=row["n_calls"],
        errors=row["n_errors"],
        input_tokens=row["sum_input"] or 0,
        output_tokens=row["sum_output"] or 0,
        cached_tokens=row["sum_cached"] or 0,
        cost=row["sum_cost"],  # NULL when no call had a price: unknown
        unpriced_calls=row["n_unpriced"],
    )


def _groups(rows: QuerySet[Any], field: str) -> list[UsageGroup]:
    data = rows.values(field).annotate(**_AGGREGATES).order_by(field)
    return [_group("(no user)" if row[field] is None else str(row[field]), row) for row in data]


def usage_summary(rows: QuerySet[Any], days: int) -> dict[str, Any]:
    """Totals and per model, per user and per day groups of the last ``days`` days of ``rows``."""
    since = timezone.now() - timedelta(days=days)
    rows = rows.filter(started_at__gte=since)
    return {
        "since": since,
        "total": _group("total", rows.aggregate(**_AGGREGATES)),
        "by_model": _groups(rows, "model"),
        "by_user": _groups(rows, "user__username"),
        "by_day": _groups(rows.annotate(day=TruncDate("started_at")), "day"),
    }


def _cost_bars(groups: list[UsageGroup]) -> list[Bar]:
    return [Bar(g.key, g.cost, g.cost_text) for g in groups]


def _period(request: Any) -> tuple[UsagePeriodForm, int]:
    form = UsagePeriodForm(request.GET or None)
    if form.is_bound and form.is_valid() and form.cleaned_data["days"]:
        return form, form.cleaned_data["days"]
    return form, DEFAULT_DAYS


class _SummaryView(ObjectPermissionRequiredMixin, View):
    """Needs *view* on the summarised model; ``self.queryset`` is then restricted to the user."""

    template_name = ""

    def get_required_permission(self) -> str:
        meta = self.queryset.model._meta
        return f"{meta.app_label}.view_{meta.model_name}"


class UsageDashboardView(_SummaryView):
    """``GET /plugins/ai-ops/usage/dashboard/?days=7|30|90``: usage and cost with charts."""

    queryset = UsageRecord.objects.all()
    template_name = "aiops_nautobot/usage_dashboard.html"

    def get(self, request: Any) -> Any:
        form, days = _period(request)
        summary = usage_summary(self.queryset, days)
        charts = {
            "by_model": bar_chart("Cost by model", _cost_bars(summary["by_model"])),
            "by_user": bar_chart("Cost by user", _cost_bars(summary["by_user"])),
            "by_day": bar_chart("Cost by day", _cost_bars(summary["by_day"])),
            "calls_by_day": bar_chart(
                "Calls by day", [Bar(g.key, g.calls, str(g.calls)) for g in summary["by_day"]]
            ),
        }
        context = {"title": "Usage & cost", "form": form, "days": days, "charts": charts}
        return render(request, self.template_name, {**context, **summary})


@dataclass(frozen=True, slots=True)
class ToolStats:
    """Calls of one tool on one MCP server (``server`` empty: a native tool)."""

    tool: str
    server: str
    calls: int
    errors: int
    p50: float | None
    p95: float | None
    mean_result_chars: float | None

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def tool_analytics(rows: QuerySet[Any], days: int) -> list[ToolStats]:
    """Per tool and server: calls, failures, p50/p95 latency (PostgreSQL) and result size."""
    rows = rows.filter(started_at__gte=timezone.now() - timedelta(days=days))
    aggregates: dict[str, Any] = {
        "n_calls": Count("pk"),
        "n_errors": Count("pk", filter=~Q(outcome__in=TOOL_OK_OUTCOMES)),
        "mean_chars": Avg("result_chars"),
    }
    if connection.vendor == "postgresql":  # MySQL has no percentile_cont: shown as n/a
        aggregates["p50"] = Percentile("latency", 0.5)
        aggregates["p95"] = Percentile("latency", 0.95)
    data = rows.values("tool", "server").annotate(**aggregates).order_by("-n_calls", "tool")
    return [
        ToolStats(
            tool=row["tool"],
            server=row["server"],
            calls=row["n_calls"],
            errors=row["n_errors"],
            p50=row.get("p50"),
            p95=row.get("p95"),
            mean_result_chars=row["mean_chars"],
        )
        for row in data
    ]


class ToolAnalyticsView(_SummaryView):
    """``GET /plugins/ai-ops/usage/tools/?days=7|30|90``: tool calls per tool and server."""

    queryset = ToolUsageRecord.objects.all()
    template_name = "aiops_nautobot/tool_analytics.html"

    def get(self, request: Any) -> Any:
        form, days = _period(request)
        stats = tool_analytics(self.queryset, days)
        chart = bar_chart(
            "Calls by tool",
            [
                Bar(f"{s.server}/{s.tool}" if s.server else s.tool, s.calls, str(s.calls))
                for s in stats
            ],
        )
        context = {
            "title": "Tool analytics",
            "form": form,
            "days": days,
            "stats": stats,
            "chart": chart,
        }
        return render(request, self.template_name, context)
