"""Spending budgets, checked before each model call.

A :class:`Budget` caps the dollars spent by one user, one tenant, one model, or everybody, over
a calendar day or month (UTC). Before each model call the :class:`BudgetGate` reads what was
spent in the period from a :class:`~aiops_core.usage.recorder.SpendLedger` (the store-backed
recorder) and admits the call, refuses it with :class:`~aiops_core.errors.BudgetExceeded`, or
sends it to the budget's fallback model.

Concurrency: the cost of a call is known only when it ends. The gate therefore admits a call
only while the budget is not used up, and, within one worker process, lets several calls of
one budget run at once only while the remaining budget covers each of them at the highest cost
one call has had so far (until a call has ended, one at a time). Near the limit the calls of
that budget queue, so a worker overspends by at most the one call in flight when the limit is
crossed. Several workers share the ledger but not their queues: the bound is one in-flight call
per worker.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import anyio

from ..catalog import ModelCatalog
from ..errors import BudgetExceeded, UserError
from .recorder import SpendLedger

if TYPE_CHECKING:
    from ..providers.base import ChatModel

__all__ = ["Admission", "Budget", "BudgetGate", "period_bounds"]

Scope = Literal["user", "tenant", "model", "global"]
Period = Literal["day", "month"]
Action = Literal["refuse", "fallback"]

_MAX_FALLBACKS = 3


def period_bounds(period: Period, now: datetime) -> tuple[datetime, datetime]:
    """Start and end (UTC) of the day or month that ``now`` is in."""
    now = now.astimezone(UTC)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1)
    start = day.replace(day=1)
    days = calendar.monthrange(start.year, start.month)[1]
    return start, start + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class Budget:
    """A cap on dollars spent over a period.

    Args:
        limit: dollars per period.
        scope: what the budget counts: one ``"user"``'s calls, one ``"tenant"``'s, one
            ``"model"``'s, or all calls (``"global"``).
        key: the user, tenant or model label it is for; ``None`` gives every user (tenant,
            model) a budget of its own of the same size.
        period: ``"day"`` or ``"month"`` (calendar, UTC).
        action: ``"refuse"`` the call, or ``"fallback"`` to ``fallback_model``.
        fallback_model: ``provider:model`` label, or a ready chat model (one with credentials
            or options), used once the budget is used up.
    """

    limit: Decimal
    scope: Scope = "user"
    key: str | None = None
    period: Period = "day"
    action: Action = "refuse"
    fallback_model: str | ChatModel | None = None

    @property
    def fallback_label(self) -> str | None:
        """The fallback model's ``provider:model`` label."""
        model = self.fallback_model
        return model if model is None or isinstance(model, str) else model.name

    def __post_init__(self) -> None:
        try:
            limit = Decimal(str(self.limit))
        except ArithmeticError:
            raise UserError(
                f"Budget limit must be a number of dollars, got {self.limit!r}"
            ) from None
        if not limit.is_finite() or limit < 0:
            raise UserError(f"Budget limit must be 0 or more dollars, got {self.limit!r}")
        object.__setattr__(self, "limit", limit)
        if self.scope not in ("user", "tenant", "model", "global"):
            raise UserError(
                f"Budget scope must be user, tenant, model or global, got {self.scope!r}"
            )
        if self.period not in ("day", "month"):
            raise UserError(f"Budget period must be 'day' or 'month', got {self.period!r}")
        if self.action not in ("refuse", "fallback"):
            raise UserError(f"Budget action must be 'refuse' or 'fallback', got {self.action!r}")
        if (self.action == "fallback") != bool(self.fallback_model):
            raise UserError(
                "A budget with action='fallback' needs a fallback_model (and only such a budget "
                "may have one)"
            )

    def subject(self, user: str | None, tenant: str | None, model: str) -> str | None:
        """What this budget counts for a call (``"*"`` for global); ``None``: it does not apply."""
        value = {"user": user, "tenant": tenant, "model": model, "global": "*"}[self.scope]
        if value is None or (self.key is not None and value != self.key):
            return None
        return value

    def describe(self, subject: str) -> str:
        """``"user 'alice' (day)"``."""
        who = "all calls" if self.scope == "global" else f"{self.scope} {subject!r}"
        return f"{who} ({self.period})"


@dataclass(slots=True)
class _Lane:
    """The calls of one budget subject in this worker."""

    condition: anyio.Condition = field(default_factory=anyio.Condition)
    in_flight: int = 0
    highest: Decimal | None = None  # highest cost of one call seen; None: none ended yet


@dataclass(slots=True)
class Admission:
    """A call let through: the model to call and the lanes to release when it ends."""

    model: str
    fallback_from: str | None
    lanes: list[_Lane]


class BudgetGate:
    """Admits model calls within the budgets (one gate per worker, shared by its runs).

    Args:
        budgets: the budgets to enforce.
        ledger: where the spending is read (normally the store-backed recorder).
        catalog: prices, to tell whether a model's cost can be counted at all.
        clock: the current time (UTC); tests pass a fake one.
    """

    def __init__(
        self,
        budgets: Iterable[Budget],
        ledger: SpendLedger,
        catalog: ModelCatalog,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.budgets = tuple(budgets)
        self.ledger = ledger
        self.catalog = catalog
        self.clock = clock
        self._lanes: dict[tuple[int, str], _Lane] = {}

    def applying(
        self, user: str | None, tenant: str | None, model: str
    ) -> list[tuple[Budget, str]]:
        """The budgets that count a call of ``model`` by ``user``/``tenant``, with their subject."""
        found = []
        for budget in self.budgets:
            subject = budget.subject(user, tenant, model)
            if subject is not None:
                found.append((budget, subject))
        return found

    async def spent(self, budget: Budget, subject: str) -> Decimal:
        """Dollars spent under ``budget`` for ``subject`` in the current period."""
        since, _ = period_bounds(budget.period, self.clock())
        field_ = {} if budget.scope == "global" else {budget.scope: subject}
        return await self.ledger.spent(since=since, **field_)

    async def remaining(self, user: str | None, tenant: str | None, model: str) -> Decimal | None:
        """The smallest remaining amount of the budgets that apply; ``None`` when none does."""
        left: Decimal | None = None
        for budget, subject in self.applying(user, tenant, model):
            rest = max(budget.limit - await self.spent(budget, subject), Decimal(0))
            left = rest if left is None else min(left, rest)
        return left

    async def admit(self, model: str, user: str | None, tenant: str | None) -> Admission:
        """Wait for room in every budget of the call; fall back or refuse when one is used up."""
        original: str | None = None
        for _ in range(_MAX_FALLBACKS + 1):
            lanes: list[_Lane] = []
            try:
                for budget, subject in self.applying(user, tenant, model):
                    lanes.append(await self._enter(budget, subject, model))
            except _UsedUp as used_up:
                await self.release(Admission(model, original, lanes), None)
                budget = used_up.budget
                fallback = budget.fallback_label
                if budget.action == "fallback" and fallback not in (None, model):
                    original = original or model
                    model = fallback
                    continue
                raise used_up.error() from None
            return Admission(model, original, lanes)
        raise BudgetExceeded(
            f"Budget fallbacks form a chain longer than {_MAX_FALLBACKS} from {original!r}; "
            "point fallback models at models with budget left"
        )

    async def _enter(self, budget: Budget, subject: str, model: str) -> _Lane:
        lane = self._lanes.setdefault((id(budget), subject), _Lane())
        if not self.catalog.get(model).priced:
            raise _UsedUp(budget, subject, None, self, unpriced=model)
        async with lane.condition:
            while True:
                spent = await self.spent(budget, subject)
                if spent >= budget.limit:
                    raise _UsedUp(budget, subject, spent, self)
                room = lane.highest is not None and (
                    spent + (lane.in_flight + 1) * lane.highest <= budget.limit
                )
                if lane.in_flight == 0 or room:
                    lane.in_flight += 1
                    return lane
                await lane.condition.wait()

    async def release(self, admission: Admission, cost: Decimal | None) -> None:
        """The admitted call ended (its record is in the ledger already): wake the queue."""
        with anyio.CancelScope(shield=True):
            for lane in admission.lanes:
                async with lane.condition:
                    lane.in_flight -= 1
                    if cost is not None and (lane.highest is None or cost > lane.highest):
                        lane.highest = cost
                    lane.condition.notify_all()


class _UsedUp(Exception):
    def __init__(
        self,
        budget: Budget,
        subject: str,
        spent: Decimal | None,
        gate: BudgetGate,
        unpriced: str | None = None,
    ) -> None:
        self.budget, self.subject, self.spent, self.unpriced = budget, subject, spent, unpriced
        self.resets = period_bounds(budget.period, gate.clock())[1]

    def error(self) -> BudgetExceeded:
        budget, what = self.budget, self.budget.describe(self.subject)
        if self.unpriced is not None:
            message = (
                f"Model {self.unpriced!r} has no price in the model catalog, so the budget of "
                f"{what} cannot be counted; set its prices (or a fallback model with prices)"
            )
        else:
            message = (
                f"Budget used up: {what} spent ${self.spent:.4f} of ${budget.limit:.2f}; it "
                f"resets at {self.resets:%Y-%m-%d %H:%M} UTC. Ask an administrator to raise it."
            )
        return BudgetExceeded(
            message,
            scope=budget.scope,
            subject=None if budget.scope == "global" else self.subject,
            limit=budget.limit,
            spent=self.spent,
            resets_at=self.resets.isoformat(),
        )
