"""Usage records, cost and budgets.

The agent loop sends a record of every model call, tool call and run to a
:class:`UsageRecorder` given as ``Agent(recorder=...)``: :class:`MemoryRecorder` keeps them in
lists, :class:`SQLUsageRecorder` in SQLite or PostgreSQL (what ``aiops usage`` reads),
:class:`~aiops_core.usage.otel.OTelRecorder` turns them into OpenTelemetry spans and metrics, and
:class:`MultiRecorder` sends them to several. Cost comes from the
:mod:`~aiops_core.catalog` at call time. :class:`Budget` caps spending per user, tenant or model
over a day or month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .budgets import Budget, BudgetGate, period_bounds
from .recorder import MemoryRecorder, MultiRecorder, SpendLedger, UsageRecorder
from .records import ModelCallRecord, RunRecord, ToolCallRecord

__all__ = [
    "Budget",
    "BudgetGate",
    "MemoryRecorder",
    "ModelCallRecord",
    "MultiRecorder",
    "OTelRecorder",
    "RunRecord",
    "SQLUsageRecorder",
    "SpendLedger",
    "ToolCallRecord",
    "UsageRecorder",
    "period_bounds",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SQLUsageRecorder": "aiops_core.usage.sql",
        "OTelRecorder": "aiops_core.usage.otel",
    },
)

if TYPE_CHECKING:
    from .otel import OTelRecorder as OTelRecorder
    from .sql import SQLUsageRecorder as SQLUsageRecorder
