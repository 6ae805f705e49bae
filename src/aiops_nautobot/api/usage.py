"""Usage and budgets over the REST API.

``GET usage/`` and ``GET usage/tools/`` summarise model and tool calls. Everybody sees their own
calls; a user with ``view`` permission on usage records (within its constraints) also sees the
others'. ``budgets/`` manages the :class:`~aiops_nautobot.models.Budget` rows (object
permissions as for any Nautobot model).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from nautobot.apps.api import NautobotModelSerializer
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..filters import BudgetFilterSet
from ..models import Budget, ToolUsageRecord, UsageRecord
from .base import ModelViewSet

__all__ = ["BudgetViewSet", "ToolUsageSummaryView", "UsageSummaryView", "visible"]

_GROUPS = {"model": "model", "user": "user__username", "tenant": "tenant__name", "day": "day"}


def visible(model: Any, user: Any) -> QuerySet[Any]:
    """The records ``user`` may see: their own, plus those their view permission allows."""
    allowed = model.objects.restrict(user, "view").values("pk")
    return model.objects.filter(Q(user=user) | Q(pk__in=allowed))


def _since(request: Request) -> Any:
    days = request.query_params.get("days")
    if days is None:
        return None
    if not days.isdigit() or int(days) < 1:
        return False
    return timezone.now() - timedelta(days=int(days))


class UsageSummaryView(APIView):
    """Model calls, errors, tokens and cost grouped by ``?by=model|user|tenant|day``
    (``?days=N``); ``tenant`` is the conversation's tenant (``None``: no tenant).

    ``cost`` is the sum of the priced calls; ``unpriced_calls`` counts the calls whose price was
    unknown (their cost is not in ``cost``).
    """

    permission_classes = [permissions.IsAuthenticated]

    def get_view_name(self) -> str:
        return "AI Ops Usage"

    def get(self, request: Request) -> Response:
        by = request.query_params.get("by", "model")
        since = _since(request)
        if by not in _GROUPS or since is False:
            return Response(
                {"detail": "Use ?by=model, user, tenant or day and ?days=N (a positive number)."},
                status=400,
            )
        rows = visible(UsageRecord, request.user)
        if since is not None:
            rows = rows.filter(started_at__gte=since)
        if by == "day":
            rows = rows.annotate(day=TruncDate("started_at"))
        field = _GROUPS[by]
        data = (
            rows.values(field)
            .annotate(
                # Aggregates never share a field's name: a later FILTER would see the sum.
                calls=Count("pk"),
                errors=Count("pk", filter=~Q(outcome="ok")),
                unpriced_calls=Count("pk", filter=Q(cost__isnull=True)),
                sum_input=Sum("input_tokens"),
                sum_cached=Sum("cached_tokens"),
                sum_output=Sum("output_tokens"),
                sum_cost=Sum("cost"),
                mean_latency=Avg("latency"),
            )
            .order_by(field)
        )
        results = [
            {
                by: str(row[field]) if row[field] is not None else None,
                "calls": row["calls"],
                "errors": row["errors"],
                "input_tokens": row["sum_input"],
                "cached_tokens": row["sum_cached"],
                "output_tokens": row["sum_output"],
                "cost": None if row["sum_cost"] is None else f"{row['sum_cost']:.6f}",
                "unpriced_calls": row["unpriced_calls"],
                "mean_latency": row["mean_latency"],
            }
            for row in data
        ]
        return Response({"by": by, "results": results})


class ToolUsageSummaryView(APIView):
    """Tool calls per tool and MCP server: calls, failures, mean latency (``?days=N``)."""

    permission_classes = [permissions.IsAuthenticated]

    def get_view_name(self) -> str:
        return "AI Ops Tool Usage"

    def get(self, request: Request) -> Response:
        since = _since(request)
        if since is False:
            return Response({"detail": "?days must be a positive number."}, status=400)
        rows = visible(ToolUsageRecord, request.user)
        if since is not None:
            rows = rows.filter(started_at__gte=since)
        data = (
            rows.values("tool", "server")
            .annotate(
                calls=Count("pk"),
                failures=Count("pk", filter=~Q(outcome__in=("ok", "paused"))),
                mean_latency=Avg("latency"),
            )
            .order_by("-calls", "tool")
        )
        return Response({"results": list(data)})


class BudgetSerializer(NautobotModelSerializer):
    class Meta:
        model = Budget
        fields = "__all__"


class BudgetViewSet(ModelViewSet):
    queryset = Budget.objects.select_related("user", "tenant", "llm_model", "fallback_model")
    serializer_class = BudgetSerializer
    filterset_class = BudgetFilterSet  # shared with the UI list
