"""``UsageRecorder``: where the agent loop sends its usage records.

The loop calls a recorder at the start of a run, after every model and tool call, and at the
end of the run. The base class does nothing, so a recorder implements only what it needs.
Recorders are called on the run's task: keep them quick (buffer, or hand slow writes to a
thread, shielded from cancellation so that a cancelled call is still recorded); an exception a
recorder raises is logged and never fails the run.

A recorder that can also answer :meth:`spent` is a :class:`SpendLedger`, which budgets read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ..context import RunContext
    from .records import ModelCallRecord, RunRecord, ToolCallRecord

__all__ = ["MemoryRecorder", "MultiRecorder", "SpendLedger", "UsageRecorder"]

log = logging.getLogger("aiops_core.usage")


class UsageRecorder:
    """Receives the usage records of runs; every method does nothing unless overridden."""

    async def run_started(self, ctx: RunContext) -> None:
        """A run started (``ctx.run_id`` names it in the records that follow)."""

    async def model_call(self, record: ModelCallRecord) -> None:
        """A model call finished (or failed)."""

    async def tool_call(self, record: ToolCallRecord) -> None:
        """A tool call finished (or failed, or paused for a person)."""

    async def run_finished(self, record: RunRecord) -> None:
        """The run ended (completed, paused, or failed)."""


@runtime_checkable
class SpendLedger(Protocol):
    """Dollars spent so far, for budgets."""

    async def spent(
        self,
        *,
        since: datetime,
        user: str | None = None,
        tenant: str | None = None,
        model: str | None = None,
    ) -> Decimal:
        """Cost of the calls since ``since`` that match every given field (unpriced count 0)."""
        ...


class MultiRecorder(UsageRecorder):
    """Sends every record to several recorders, in order; spending is read from the first
    one that is a :class:`SpendLedger`."""

    def __init__(self, recorders: Iterable[UsageRecorder]) -> None:
        self.recorders: Sequence[UsageRecorder] = tuple(recorders)

    async def run_started(self, ctx: RunContext) -> None:
        for recorder in self.recorders:
            await recorder.run_started(ctx)

    async def model_call(self, record: ModelCallRecord) -> None:
        for recorder in self.recorders:
            await recorder.model_call(record)

    async def tool_call(self, record: ToolCallRecord) -> None:
        for recorder in self.recorders:
            await recorder.tool_call(record)

    async def run_finished(self, record: RunRecord) -> None:
        for recorder in self.recorders:
            await recorder.run_finished(record)

    def ledger(self) -> SpendLedger | None:
        """The first recorder that can tell what was spent."""
        return next((r for r in self.recorders if isinstance(r, SpendLedger)), None)


class MemoryRecorder(UsageRecorder):
    """Keeps the records in lists (one process; tests, scripts and short-lived tools)."""

    def __init__(self) -> None:
        self.model_calls: list[ModelCallRecord] = []
        self.tool_calls: list[ToolCallRecord] = []
        self.runs: list[RunRecord] = []

    async def model_call(self, record: ModelCallRecord) -> None:
        self.model_calls.append(record)

    async def tool_call(self, record: ToolCallRecord) -> None:
        self.tool_calls.append(record)

    async def run_finished(self, record: RunRecord) -> None:
        self.runs.append(record)

    async def spent(
        self,
        *,
        since: datetime,
        user: str | None = None,
        tenant: str | None = None,
        model: str | None = None,
    ) -> Decimal:
        return sum(
            (
                r.cost
                for r in self.model_calls
                if r.cost is not None
                and r.started_at >= since
                and (user is None or r.user == user)
                and (tenant is None or r.tenant == tenant)
                and (model is None or r.model == model)
            ),
            Decimal(0),
        )
