"""``SQLUsageRecorder``: usage records in SQLite or PostgreSQL, read by budgets and ``aiops usage``.

Two tables, ``aiops_usage_model_call`` and ``aiops_usage_tool_call``, one row per call. Message
bodies and tool arguments are never stored: only counts, times, outcomes and cost. Writes run
on worker threads (``anyio.to_thread``), like :class:`~aiops_core.checkpoint.SQLStore`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import anyio
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL

from ..checkpoint.sql import normalise_url
from ..errors import StoreUnavailableError, UserError
from .recorder import UsageRecorder
from .records import ModelCallRecord, ToolCallRecord

__all__ = ["SQLUsageRecorder"]

_META = sa.MetaData()
_PRICE = sa.Numeric(20, 10)

MODEL_CALL = sa.Table(
    "aiops_usage_model_call",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("thread_id", sa.String(255)),
    sa.Column("user", sa.String(255), index=True),
    sa.Column("tenant", sa.String(255), index=True),
    sa.Column("model", sa.String(255), nullable=False),
    sa.Column("provider", sa.String(64), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("latency", sa.Float, nullable=False),
    sa.Column("time_to_first_token", sa.Float),
    sa.Column("input_tokens", sa.Integer, nullable=False),
    sa.Column("output_tokens", sa.Integer, nullable=False),
    sa.Column("cached_tokens", sa.Integer, nullable=False),
    sa.Column("reasoning_tokens", sa.Integer, nullable=False),
    sa.Column("cost", _PRICE),
    sa.Column("outcome", sa.String(64), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("fallback_from", sa.String(255)),
)

TOOL_CALL = sa.Table(
    "aiops_usage_tool_call",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), nullable=False, index=True),
    sa.Column("thread_id", sa.String(255)),
    sa.Column("user", sa.String(255), index=True),
    sa.Column("tenant", sa.String(255)),
    sa.Column("tool", sa.String(255), nullable=False),
    sa.Column("server", sa.String(255)),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("latency", sa.Float, nullable=False),
    sa.Column("outcome", sa.String(64), nullable=False),
    sa.Column("result_chars", sa.Integer, nullable=False),
)


def _utc(value: datetime) -> datetime:
    """SQLite gives the stored UTC times back without a zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


GroupBy = Literal["model", "user", "tenant", "day"]


class SQLUsageRecorder(UsageRecorder):
    """Usage records in a SQL database; also the :class:`SpendLedger` of budgets.

    Args:
        url: ``sqlite:///usage.db`` or ``postgresql://user:password@host/db`` (may be the same
            database as the checkpoint store).
        create_schema: create the two tables on first use.
    """

    def __init__(self, url: str | URL, *, create_schema: bool = True) -> None:
        self.url = normalise_url(url)
        sqlite = self.url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {}
        if sqlite and not self.url.database:  # sqlite://: one shared in-memory connection
            options = {
                "poolclass": sa.pool.StaticPool,
                "connect_args": {"check_same_thread": False},
            }
        self._engine = sa.create_engine(self.url, **options)
        self._create_schema = create_schema
        self._ready = False
        self._lock = threading.Lock()
        self._limiter = anyio.CapacityLimiter(1 if sqlite else 8)

    def __repr__(self) -> str:
        return f"SQLUsageRecorder({self.url.render_as_string(hide_password=True)!r})"

    # ------------------------------------------------------------------ plumbing
    async def _run(self, work: Any, *args: Any) -> Any:
        # Shielded: the record of a cancelled call is still written.
        with anyio.CancelScope(shield=True):
            return await anyio.to_thread.run_sync(self._guarded, work, *args, limiter=self._limiter)

    def _guarded(self, work: Any, *args: Any) -> Any:
        try:
            if not self._ready:
                with self._lock:
                    if self._create_schema and not self._ready:
                        _META.create_all(self._engine)
                    self._ready = True
            return work(*args)
        except sa_exc.OperationalError as err:
            raise StoreUnavailableError(
                f"Usage database {self.url.render_as_string(hide_password=True)} is unreachable "
                f"({type(err.orig).__name__})"
            ) from None

    def _insert(self, table: sa.Table, row: Mapping[str, Any]) -> None:
        with self._engine.begin() as conn:
            conn.execute(table.insert(), [dict(row)])

    async def aclose(self) -> None:
        """Close the connection pool."""
        self._engine.dispose()

    # ------------------------------------------------------------------ recording
    async def model_call(self, record: ModelCallRecord) -> None:
        usage = record.usage
        row = {
            "run_id": record.run_id,
            "thread_id": record.thread_id,
            "user": record.user,
            "tenant": record.tenant,
            "model": record.model,
            "provider": record.provider,
            "started_at": record.started_at,
            "latency": record.latency,
            "time_to_first_token": record.time_to_first_token,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_tokens": usage.cached_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "cost": record.cost,
            "outcome": record.outcome,
            "step": record.step,
            "fallback_from": record.fallback_from,
        }
        await self._run(self._insert, MODEL_CALL, row)

    async def tool_call(self, record: ToolCallRecord) -> None:
        row = {
            "run_id": record.run_id,
            "thread_id": record.thread_id,
            "user": record.user,
            "tenant": record.tenant,
            "tool": record.tool,
            "server": record.server,
            "started_at": record.started_at,
            "latency": record.latency,
            "outcome": record.outcome,
            "result_chars": record.result_chars,
        }
        await self._run(self._insert, TOOL_CALL, row)

    # ------------------------------------------------------------------ reading
    async def spent(
        self,
        *,
        since: datetime,
        user: str | None = None,
        tenant: str | None = None,
        model: str | None = None,
    ) -> Decimal:
        c = MODEL_CALL.c
        query = sa.select(sa.func.coalesce(sa.func.sum(c.cost), 0)).where(c.started_at >= since)
        for column, value in ((c.user, user), (c.tenant, tenant), (c.model, model)):
            if value is not None:
                query = query.where(column == value)

        def read() -> Decimal:
            with self._engine.connect() as conn:
                return Decimal(str(conn.execute(query).scalar_one()))

        return await self._run(read)  # type: ignore[no-any-return]

    async def summary(
        self, by: GroupBy = "model", *, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Model-call totals grouped by model, user, tenant or day, largest cost first.

        Each row has the group value, ``calls``, ``errors``, ``input_tokens``,
        ``output_tokens``, ``cached_tokens``, ``cost`` (``None`` when every call was unpriced)
        and ``unpriced_calls``.
        """
        if by not in ("model", "user", "tenant", "day"):
            raise UserError(f"Group usage by model, user, tenant or day, not {by!r}")
        rows = await self._run(self._rows, MODEL_CALL, since)
        groups: dict[str, dict[str, Any]] = {}
        for row in rows:
            key = _utc(row.started_at).date().isoformat() if by == "day" else getattr(row, by)
            group = groups.setdefault(
                str(key) if key is not None else "-",
                {
                    by: str(key) if key is not None else "-",
                    "calls": 0,
                    "errors": 0,
                    "input_tokens": 0,
                    "output_tokens": 0,
                    "cached_tokens": 0,
                    "cost": None,
                    "unpriced_calls": 0,
                },
            )
            group["calls"] += 1
            group["errors"] += row.outcome != "ok"
            for name in ("input_tokens", "output_tokens", "cached_tokens"):
                group[name] += getattr(row, name)
            if row.cost is None:
                group["unpriced_calls"] += 1
            else:
                group["cost"] = (group["cost"] or Decimal(0)) + Decimal(str(row.cost))
        order = sorted(groups.values(), key=lambda g: (g["cost"] or Decimal(0), g["calls"]))
        return order[::-1] if by != "day" else sorted(groups.values(), key=lambda g: g["day"])

    async def tool_summary(self, *, since: datetime | None = None) -> list[dict[str, Any]]:
        """Tool-call totals per tool: calls, failures, mean latency, largest result."""
        rows = await self._run(self._rows, TOOL_CALL, since)
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for row in rows:
            group = groups.setdefault(
                (row.tool, row.server or "-"),
                {
                    "tool": row.tool,
                    "server": row.server or "-",
                    "calls": 0,
                    "failures": 0,
                    "latency": 0.0,
                },
            )
            group["calls"] += 1
            group["failures"] += row.outcome not in ("ok", "paused")
            group["latency"] += row.latency
        for group in groups.values():
            group["latency"] = group["latency"] / group["calls"]
        return sorted(groups.values(), key=lambda g: -g["calls"])

    def _rows(self, table: sa.Table, since: datetime | None) -> Sequence[Any]:
        query = sa.select(table)
        if since is not None:
            query = query.where(table.c.started_at >= since)
        with self._engine.connect() as conn:
            return list(conn.execute(query))

    async def prune(self, before: datetime) -> int:
        """Delete the records of calls started before ``before``; returns how many."""

        def delete() -> int:
            with self._engine.begin() as conn:
                count = 0
                for table in (MODEL_CALL, TOOL_CALL):
                    count += conn.execute(
                        table.delete().where(table.c.started_at < before)
                    ).rowcount
                return count

        return await self._run(delete)  # type: ignore[no-any-return]
