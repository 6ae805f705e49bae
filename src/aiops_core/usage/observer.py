"""The agent loop's side of usage recording: the outermost wrap of its model and tool calls.

An agent given a recorder or budgets holds one :class:`UsageTracking`; each run gets a
:class:`RunObserver` from it, which wraps the run's composed handlers (the whole middleware
chain included) once. An agent with neither holds none, and its loop is unchanged: no timing,
no records, no cost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from ..catalog import DEFAULT_CATALOG, ModelCatalog, split_model
from ..errors import ApprovalRequired, UserError
from ..messages import Usage
from ..providers.base import ChatModel, ResponseDone
from ..providers.registry import get_chat_model
from .budgets import Admission, Budget, BudgetGate
from .recorder import MultiRecorder, SpendLedger, UsageRecorder
from .records import OK, ModelCallRecord, RunRecord, ToolCallRecord, outcome_of

if TYPE_CHECKING:
    from .._types import ModelHandler, StreamHandler, ToolHandler
    from ..context import RunContext
    from ..messages import ToolResultMessage
    from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent
    from ..tools import ToolInvocation

__all__ = ["RunObserver", "UsageTracking", "usage_tracking"]

log = logging.getLogger("aiops_core.usage")


class UsageTracking:
    """An agent's recorder, budgets and catalog (built by ``Agent``; shared by its runs).

    Args:
        recorder: where records go; ``None`` records nothing.
        budgets: :class:`Budget` objects, or a ready :class:`BudgetGate`.
        catalog: prices; default :data:`~aiops_core.catalog.DEFAULT_CATALOG`.
    """

    def __init__(
        self,
        recorder: UsageRecorder | None = None,
        budgets: Iterable[Budget] | BudgetGate = (),
        catalog: ModelCatalog | None = None,
    ) -> None:
        self.recorder = recorder or UsageRecorder()
        self.catalog = catalog or DEFAULT_CATALOG
        self._models: dict[str, ChatModel] = {}
        if isinstance(budgets, BudgetGate):
            self.gate: BudgetGate | None = budgets
        else:
            self.gate = self._gate(recorder, tuple(budgets))
        for budget in self.gate.budgets if self.gate else ():
            if budget.fallback_model is not None and not isinstance(budget.fallback_model, str):
                self._models[budget.fallback_model.name] = budget.fallback_model

    def _gate(
        self, recorder: UsageRecorder | None, budgets: tuple[Budget, ...]
    ) -> BudgetGate | None:
        if budgets:
            ledger = recorder.ledger() if isinstance(recorder, MultiRecorder) else recorder
            if not isinstance(ledger, SpendLedger):
                raise UserError(
                    "Budgets need a recorder that keeps spending (SQLUsageRecorder or "
                    "MemoryRecorder): pass recorder=..."
                )
            return BudgetGate(budgets, ledger, self.catalog)
        return None

    def model(self, label: str) -> ChatModel:
        """The chat model of a budget's fallback label, built once per agent."""
        model = self._models.get(label)
        if model is None:
            model = self._models[label] = get_chat_model(label)
        return model

    def for_run(self, ctx: RunContext) -> RunObserver:
        """The observer of one run."""
        return RunObserver(self, ctx)


def usage_tracking(
    recorder: UsageRecorder | None,
    budgets: Iterable[Budget] | BudgetGate,
    catalog: ModelCatalog | None,
) -> UsageTracking | None:
    """An agent's tracking, or ``None`` when it has neither a recorder nor budgets."""
    if not isinstance(budgets, BudgetGate):
        budgets = tuple(budgets)
    if recorder is None and not budgets:
        return None
    return UsageTracking(recorder, budgets, catalog)


class RunObserver:
    """Times, prices and records the calls of one run, and applies its budgets."""

    def __init__(self, tracking: UsageTracking, ctx: RunContext) -> None:
        self.tracking = tracking
        self.recorder = tracking.recorder
        self.ctx = ctx
        self.cost: Decimal | None = Decimal(0)
        self._started = datetime.now(UTC)
        self._t0 = time.perf_counter()

    # ------------------------------------------------------------------ run
    async def started(self) -> None:
        await self._safely(self.recorder.run_started(self.ctx))

    async def finished(
        self, model: str, steps: int, usage: Usage, error: BaseException | None
    ) -> None:
        ctx = self.ctx
        record = RunRecord(
            run_id=ctx.run_id,
            model=model,
            started_at=self._started,
            latency=time.perf_counter() - self._t0,
            usage=usage,
            cost=self.cost,
            steps=steps,
            outcome=outcome_of(error),
            thread_id=ctx.thread_id,
            user=ctx.user,
            tenant=ctx.tenant,
        )
        await self._safely(self.recorder.run_finished(record))

    # ------------------------------------------------------------------ model calls
    def model_handler(
        self,
        handler: ModelHandler,
        handler_for: Callable[[str], ModelHandler],
        *,
        model: str | None = None,
    ) -> ModelHandler:
        """Wrap the run's model handler; ``handler_for(label)`` builds one for a fallback.

        ``model`` labels the calls when ``handler`` calls another model than the run's (the
        summary model of ``context_policy="summarize"``): budgets admit and records name it.
        """

        async def observed(request: ModelRequest) -> ModelResponse:
            admission = await self._admit(model)
            call = (
                handler
                if admission is None or admission.fallback_from is None
                else (handler_for(admission.model))
            )
            label = (model or self.ctx.model) if admission is None else admission.model
            started, t0 = datetime.now(UTC), time.perf_counter()
            response: ModelResponse | None = None
            error: BaseException | None = None
            try:
                response = await call(request)
                return response
            except BaseException as err:
                error = err
                raise
            finally:
                await self._model_done(
                    admission, label, request, response, error, started, t0, None, False
                )

        return observed

    def stream_handler(
        self, handler: StreamHandler, handler_for: Callable[[str], StreamHandler]
    ) -> StreamHandler:
        """Wrap the run's streaming model handler (adds the time to the first delta)."""

        async def observed(request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
            admission = await self._admit()
            call = (
                handler
                if admission is None or admission.fallback_from is None
                else (handler_for(admission.model))
            )
            model = self.ctx.model if admission is None else admission.model
            started, t0 = datetime.now(UTC), time.perf_counter()
            response: ModelResponse | None = None
            error: BaseException | None = None
            first: float | None = None
            try:
                async for event in call(request):
                    if isinstance(event, ResponseDone):
                        response = event.response
                    elif first is None:
                        first = time.perf_counter() - t0
                    yield event
            except BaseException as err:
                error = err
                raise
            finally:
                await self._model_done(
                    admission, model, request, response, error, started, t0, first, True
                )

        return observed

    async def _admit(self, model: str | None = None) -> Admission | None:
        gate, ctx = self.tracking.gate, self.ctx
        if gate is None:
            return None
        return await gate.admit(model or ctx.model, ctx.user, ctx.tenant)

    async def _model_done(
        self,
        admission: Admission | None,
        model: str,
        request: ModelRequest,
        response: ModelResponse | None,
        error: BaseException | None,
        started: datetime,
        t0: float,
        first: float | None,
        streaming: bool,
    ) -> None:
        latency = time.perf_counter() - t0
        usage = response.usage if response is not None else Usage()
        cost = self.tracking.catalog.cost(model, usage)
        if self.cost is not None:
            self.cost = None if cost is None else self.cost + cost
        ctx = self.ctx
        record = ModelCallRecord(
            run_id=ctx.run_id,
            model=model,
            provider=split_model(model)[0],
            started_at=started,
            latency=latency,
            usage=usage,
            cost=cost,
            outcome=outcome_of(error),
            thread_id=ctx.thread_id,
            user=ctx.user,
            tenant=ctx.tenant,
            time_to_first_token=first,
            step=ctx.step,
            streaming=streaming,
            fallback_from=admission.fallback_from if admission is not None else None,
            request=request,
            response=response.message if response is not None else None,
        )
        # The ledger holds the call's cost before the budget lets the next call through.
        await self._safely(self.recorder.model_call(record))
        if admission is not None and self.tracking.gate is not None:
            await self.tracking.gate.release(admission, cost)

    # ------------------------------------------------------------------ tool calls
    def tool_handler(self, handler: ToolHandler) -> ToolHandler:
        """Wrap the run's tool handler."""

        async def observed(invocation: ToolInvocation) -> ToolResultMessage:
            started, t0 = datetime.now(UTC), time.perf_counter()
            result: ToolResultMessage | None = None
            error: BaseException | None = None
            try:
                result = await handler(invocation)
                return result
            except BaseException as err:
                error = err
                raise
            finally:
                await self._tool_done(invocation, result, error, started, t0)

        return observed

    async def _tool_done(
        self,
        invocation: ToolInvocation,
        result: ToolResultMessage | None,
        error: BaseException | None,
        started: datetime,
        t0: float,
    ) -> None:
        latency = time.perf_counter() - t0
        if isinstance(error, ApprovalRequired):
            outcome = "paused"
        elif error is None and result is not None and result.is_error:
            outcome = "tool_error"
        else:
            outcome = outcome_of(error) if error is not None else OK
        tool = invocation.tool
        server = tool.metadata.get("server") if tool is not None else None
        ctx, call = self.ctx, invocation.call
        record = ToolCallRecord(
            run_id=ctx.run_id,
            tool=call.name,
            started_at=started,
            latency=latency,
            outcome=outcome,
            server=str(server) if server is not None else None,
            result_chars=len(result.text) if result is not None else 0,
            thread_id=ctx.thread_id,
            user=ctx.user,
            tenant=ctx.tenant,
            call_id=call.id,
            arguments=call.arguments,
        )
        await self._safely(self.recorder.tool_call(record))

    # ------------------------------------------------------------------
    async def _safely(self, recording: object) -> None:
        """Await a recorder call; its failure is logged, never the run's.

        No cancel scope here (it would cost more than an in-memory recorder): recorders that
        write somewhere shield their own writes, so a cancelled call is still recorded.
        """
        try:
            await recording  # type: ignore[misc]
        except Exception:
            log.exception("usage recorder %s failed", type(self.recorder).__name__)
