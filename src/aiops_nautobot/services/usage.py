"""Usage recording, prices and budgets of chat runs, from and into the database.

The sync half (:func:`plan_usage`, in the request thread) reads prices from ``LLMModel`` rows
and the budgets that may apply to the user; the async half (:func:`open_usage`, on the engine
loop) gives the agent its recorder (rows in ``UsageRecord`` / ``ToolUsageRecord`` plus the
Prometheus metrics) and the worker's one :class:`~aiops_core.usage.BudgetGate`, leased from the
engine loop so that concurrent requests of a worker share its queues.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import anyio

from aiops_core.catalog import ModelCatalog, ModelInfo
from aiops_core.usage import Budget, BudgetGate, MultiRecorder, UsageRecorder

from ..telemetry import TelemetryConfig, otel_recorder
from .metrics import PrometheusRecorder
from .model_choice import ModelChoice, fingerprint, model_choice

if TYPE_CHECKING:
    from aiops_core.usage import ModelCallRecord, ToolCallRecord

    from .engine_loop import EngineLoop

__all__ = [
    "DatabaseRecorder",
    "UsagePlan",
    "budget_fields",
    "budget_remaining",
    "budget_status",
    "open_usage",
    "plan_usage",
]


@dataclass(frozen=True, slots=True)
class _BudgetRow:
    scope: str
    key: str | None
    period: str
    limit: Decimal
    action: str
    fallback: str | None


@dataclass(frozen=True, slots=True)
class UsagePlan:
    """Prices, budgets and fallback models for one request, as plain values, and whether its
    turn is also recorded as OpenTelemetry spans (``telemetry``, from the request's settings)."""

    prices: Mapping[str, ModelInfo] = field(default_factory=dict)
    model_ids: Mapping[str, Any] = field(default_factory=dict)
    budgets: tuple[_BudgetRow, ...] = ()
    fallbacks: Mapping[str, ModelChoice] = field(default_factory=dict, repr=False)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)

    @property
    def catalog(self) -> ModelCatalog:
        return ModelCatalog(self.prices)

    @property
    def fingerprint(self) -> str:
        return fingerprint(
            [
                [
                    [b.scope, b.key, b.period, str(b.limit), b.action, b.fallback]
                    for b in self.budgets
                ],
                {
                    k: [str(v) for v in (i.input_price, i.output_price, i.cached_input_price)]
                    for k, i in self.prices.items()
                },
                {k: c.fingerprint for k, c in self.fallbacks.items()},
            ]
        )


def plan_usage(tenant: Any = None, telemetry: TelemetryConfig | None = None) -> UsagePlan:
    """Read prices of every LLM model and the enabled budgets (sync; outside the event loop).

    A fallback budget whose fallback model belongs to a tenant other than ``tenant`` (the
    conversation's: a ``Tenant``, its primary key or ``None``) refuses instead: a turn never uses
    another tenant's model.
    """
    from ..models import Budget as BudgetRow
    from ..models import LLMModel

    # Plain values and no ordering: compiling these two queries was most of a chat request's
    # configuration reads (select_related chains and each model's default ordering).
    prices: dict[str, ModelInfo] = {}
    ids: dict[str, Any] = {}
    specs: dict[Any, str] = {}
    models = LLMModel.objects.order_by().values_list(
        "pk", "provider__name", "name", "input_price", "output_price", "cached_input_price"
    )
    for pk, provider, name, input_price, output_price, cached_input_price in models:
        spec = f"{provider}:{name}"
        ids[spec], specs[pk] = pk, spec
        prices[spec] = ModelInfo(
            input_price=input_price,
            output_price=output_price,
            cached_input_price=cached_input_price,
        )
    budgets, fallbacks = [], {}
    rows = BudgetRow.objects.filter(enabled=True).order_by("name")
    for budget in rows.only(
        "name", "user", "tenant", "llm_model", "period", "limit", "action", "fallback_model"
    ):
        if budget.user_id:
            scope, key = "user", str(budget.user_id)
        elif budget.tenant_id:
            scope, key = "tenant", str(budget.tenant_id)
        elif budget.llm_model_id:
            scope, key = "model", specs.get(budget.llm_model_id)
        else:
            scope, key = "global", None
        fallback, action = None, budget.action
        if action == "fallback" and budget.fallback_model_id is not None:
            row = LLMModel.objects.select_related("provider", "api_key_secret").get(
                pk=budget.fallback_model_id
            )  # only budgets that fall back read their model (a query each)
            if row.tenant_id in (None, getattr(tenant, "pk", tenant)):
                fallback = row.spec
                fallbacks[fallback] = model_choice(row)
            else:
                action = "refuse"
        budgets.append(_BudgetRow(scope, key, budget.period, budget.limit, action, fallback))
    return UsagePlan(prices, ids, tuple(budgets), fallbacks, telemetry or TelemetryConfig())


class DatabaseRecorder(UsageRecorder):
    """Writes ``UsageRecord`` and ``ToolUsageRecord`` rows; the spend ledger of budgets."""

    def __init__(self, model_ids: Mapping[str, Any]) -> None:
        self.model_ids = dict(model_ids)

    async def model_call(self, record: ModelCallRecord) -> None:
        from asgiref.sync import sync_to_async

        with anyio.CancelScope(shield=True):  # a cancelled call is still recorded
            await sync_to_async(_in_worker, thread_sensitive=True)(self._save_model_call, record)

    async def tool_call(self, record: ToolCallRecord) -> None:
        from asgiref.sync import sync_to_async

        with anyio.CancelScope(shield=True):
            await sync_to_async(_in_worker, thread_sensitive=True)(self._save_tool_call, record)

    async def spent(
        self,
        *,
        since: datetime,
        user: str | None = None,
        tenant: str | None = None,
        model: str | None = None,
    ) -> Decimal:
        from asgiref.sync import sync_to_async

        run = sync_to_async(_in_worker, thread_sensitive=True)
        return await run(_spent, since, user, tenant, model)  # type: ignore[no-any-return]

    def _save_model_call(self, record: ModelCallRecord) -> None:
        from ..models import UsageRecord

        usage = record.usage
        UsageRecord.objects.create(
            run_id=record.run_id,
            thread_id=record.thread_id or "",
            user_id=_uuid(record.user),
            tenant_id=_uuid(record.tenant),
            llm_model_id=self.model_ids.get(record.model),
            model=record.model,
            provider=record.provider,
            started_at=record.started_at,
            latency=record.latency,
            time_to_first_token=record.time_to_first_token,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_tokens=usage.cached_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cost=record.cost,
            outcome=record.outcome[:100],
            step=record.step,
            streaming=record.streaming,
            fallback_from=record.fallback_from or "",
        )

    def _save_tool_call(self, record: ToolCallRecord) -> None:
        from ..models import ToolUsageRecord

        ToolUsageRecord.objects.create(
            run_id=record.run_id,
            thread_id=record.thread_id or "",
            user_id=_uuid(record.user),
            tool=record.tool,
            server=record.server or "",
            started_at=record.started_at,
            latency=record.latency,
            outcome=record.outcome[:100],
            result_chars=record.result_chars,
        )


def _in_worker(work: Any, *args: Any) -> Any:
    from django.db import close_old_connections

    # The worker thread outlives requests: apply CONN_MAX_AGE and drop dead connections.
    close_old_connections()
    try:
        return work(*args)
    finally:
        close_old_connections()


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def _spent(since: datetime, user: str | None, tenant: str | None, model: str | None) -> Decimal:
    from django.db.models import Sum

    from ..models import UsageRecord

    rows = UsageRecord.objects.filter(
        _subject_filter(user, tenant, model), started_at__gte=since, cost__isnull=False
    )
    return rows.aggregate(total=Sum("cost"))["total"] or Decimal(0)


def _budgets(plan: UsagePlan, models: Mapping[str, Any]) -> list[Budget]:
    return [
        Budget(
            row.limit,
            scope=row.scope,  # type: ignore[arg-type]
            key=row.key,
            period=row.period,  # type: ignore[arg-type]
            action=row.action,  # type: ignore[arg-type]
            fallback_model=models.get(row.fallback) if row.fallback else None,
        )
        for row in plan.budgets
    ]


@asynccontextmanager
async def _gate(plan: UsagePlan, ledger: DatabaseRecorder) -> AsyncIterator[BudgetGate]:
    from aiops_core.providers import get_chat_model

    models = {
        label: get_chat_model(c.spec, **dict(c.options)) for label, c in plan.fallbacks.items()
    }
    try:
        yield BudgetGate(_budgets(plan, models), ledger, plan.catalog)
    finally:
        for model in models.values():
            await model.aclose()


@asynccontextmanager
async def open_usage(
    plan: UsagePlan, engine: EngineLoop
) -> AsyncIterator[tuple[UsageRecorder, BudgetGate | None, ModelCatalog]]:
    """The recorder, the worker's budget gate (``None`` without budgets) and the catalog."""
    database = DatabaseRecorder(plan.model_ids)
    recorders: list[UsageRecorder] = [database, PrometheusRecorder()]
    telemetry = plan.telemetry
    if telemetry.enabled:  # PLUGINS_CONFIG["aiops_nautobot"]["opentelemetry"]
        recorders.append(otel_recorder(telemetry.capture_content))
    recorder = MultiRecorder(recorders)
    if not plan.budgets:
        yield recorder, None, plan.catalog
        return
    async with engine.lease(
        "usage:budgets", plan.fingerprint, lambda: _gate(plan, database)
    ) as gate:
        yield recorder, gate, plan.catalog


def budget_remaining(
    plan: UsagePlan, user_key: str | None, model: str, tenant_key: str | None = None
) -> Decimal | None:
    """Dollars left under the tightest budget that applies to ``user_key``, ``tenant_key`` (the
    conversation's tenant) and ``model`` (sync); ``None`` when no budget applies.

    One query whatever the number of budgets: a filtered sum per budget in one aggregate.
    """
    from django.db.models import Q, Sum
    from django.utils import timezone

    from aiops_core.usage import period_bounds

    from ..models import UsageRecord

    limits: dict[str, Decimal] = {}
    sums: dict[str, Any] = {}
    earliest: datetime | None = None
    for index, row in enumerate(plan.budgets):
        budget = Budget(row.limit, scope=row.scope, key=row.key, period=row.period)  # type: ignore[arg-type]
        subject = budget.subject(user_key, tenant_key, model)
        if subject is None:
            continue
        since = period_bounds(budget.period, timezone.now())[0]
        filters: dict[str, str | None] = {"user": None, "tenant": None, "model": None}
        if budget.scope != "global":
            filters[budget.scope] = subject
        name = f"budget_{index}"
        earliest = since if earliest is None else min(earliest, since)
        limits[name] = budget.limit
        sums[name] = Sum("cost", filter=Q(started_at__gte=since) & _subject_filter(**filters))
    if not sums:
        return None
    rows = UsageRecord.objects.filter(cost__isnull=False, started_at__gte=earliest)
    spent = rows.aggregate(**sums)
    return min(
        max(limit - (spent[name] or Decimal(0)), Decimal(0)) for name, limit in limits.items()
    )


def _subject_filter(user: str | None, tenant: str | None, model: str | None) -> Any:
    from django.db.models import Q

    condition = Q()
    if user is not None:
        condition &= Q(user_id=_uuid(user))
    if tenant is not None:
        condition &= Q(tenant_id=_uuid(tenant))
    if model is not None:
        condition &= Q(model=model)
    return condition


def budget_status(row: Any) -> tuple[Decimal, Decimal]:
    """Spent and remaining dollars of one ``Budget`` row in its current period (sync).

    A budget for a user, tenant or model counts that subject's priced calls; one without a
    subject counts all calls. Calls of unknown cost are not counted (they have no price).
    """
    from django.utils import timezone

    from aiops_core.usage import period_bounds

    since = period_bounds(row.period, timezone.now())[0]
    filters: dict[str, str | None] = {"user": None, "tenant": None, "model": None}
    if row.user_id:
        filters["user"] = str(row.user_id)
    elif row.tenant_id:
        filters["tenant"] = str(row.tenant_id)
    elif row.llm_model_id:
        filters["model"] = row.llm_model.spec
    spent = _spent(since, **filters)
    return spent, max(row.limit - spent, Decimal(0))


def budget_fields(plan: Any) -> dict[str, Any]:
    """``{"budget_remaining": "1.2345"}`` for a chat answer when a budget applies, else ``{}``."""
    usage: UsagePlan = plan.usage
    if not usage.budgets:
        return {}
    left = budget_remaining(usage, plan.user_key, plan.model.spec, plan.tenant_key)
    return {} if left is None else {"budget_remaining": f"{left:.4f}"}
