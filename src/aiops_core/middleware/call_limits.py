"""``model_call_limit`` and ``tool_call_limit``: bound what one run, or one thread, may spend.

Limits are checked before each call, so the call that would exceed one never happens.

``model_call_limit`` counts model calls in this run and, per thread, the assistant messages in
the request's history plus this run's calls. On reaching a limit it either ends the run
gracefully with ``message`` as the final answer (``on_limit="end"``) or raises
:class:`~aiops_core.errors.UsageLimitExceeded` (``on_limit="raise"``).

``tool_call_limit`` counts tool calls in this run and in the thread (the thread's earlier calls
are read from the first model request of the run), overall or per tool name. At a limit the call
is not made and the model receives a tool error saying so (``on_limit="end"``), or the run raises.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from pydantic import Field

from .._types import ModelHandler, StreamHandler, ToolHandler
from ..errors import UsageLimitExceeded
from ..messages import AssistantMessage, ToolResultMessage, Usage
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent
from ..tools import ToolInvocation, tool_error
from ._fields import template
from .base import Middleware, MiddlewareConfig, response_events

__all__ = [
    "ModelCallLimitConfig",
    "ModelCallLimitMiddleware",
    "ToolCallLimitConfig",
    "ToolCallLimitMiddleware",
]


class ModelCallLimitConfig(MiddlewareConfig):
    """Config of the ``model_call_limit`` middleware."""

    run_limit: int | None = Field(10, ge=1, description="model calls per run (None: no limit)")
    thread_limit: int | None = Field(
        None, ge=1, description="model calls per thread (None: no limit)"
    )
    on_limit: Literal["end", "raise"] = Field("end", description="end with `message`, or raise")
    message: Annotated[str, template(scope="run")] = Field(
        "I have reached the limit of model calls for this {scope}, so I stop here.",
        description="final answer when ending; {scope} is 'run' or 'conversation'",
    )


class ModelCallLimitMiddleware(Middleware[ModelCallLimitConfig]):
    """Limits model calls per run and per thread."""

    name = "model_call_limit"

    def setup(self) -> None:
        self.calls = 0

    def _exceeded(self, request: ModelRequest) -> str | None:
        cfg = self.config
        if cfg.run_limit is not None and self.calls >= cfg.run_limit:
            return "run"
        if cfg.thread_limit is not None:
            made = sum(isinstance(m, AssistantMessage) for m in request.messages)
            if made >= cfg.thread_limit:
                return "conversation"
        return None

    def _stop(self, scope: str) -> ModelResponse:
        limit = self.config.run_limit if scope == "run" else self.config.thread_limit
        if self.config.on_limit == "raise":
            raise UsageLimitExceeded(f"model call limit reached: {limit} per {scope}")
        text = self.config.message.format(scope=scope)
        return ModelResponse(
            message=AssistantMessage(content=text), usage=Usage(), finish_reason="limit", model=None
        )

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        scope = self._exceeded(request)
        if scope is not None:
            return self._stop(scope)
        self.calls += 1
        return await call_next(request)

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        scope = self._exceeded(request)
        if scope is not None:
            for event in response_events(self._stop(scope)):
                yield event
            return
        self.calls += 1
        async for event in call_next(request):
            yield event


class ToolCallLimitConfig(MiddlewareConfig):
    """Config of the ``tool_call_limit`` middleware."""

    run_limit: int | None = Field(20, ge=1, description="tool calls per run, all tools")
    thread_limit: int | None = Field(None, ge=1, description="tool calls per thread, all tools")
    per_tool_run_limit: dict[str, int] = Field(
        default_factory=dict, description="tool name -> calls per run"
    )
    per_tool_thread_limit: dict[str, int] = Field(
        default_factory=dict, description="tool name -> calls per thread"
    )
    on_limit: Literal["end", "raise"] = Field(
        "end", description="tool error to the model, or raise"
    )


class ToolCallLimitMiddleware(Middleware[ToolCallLimitConfig]):
    """Limits tool calls per run and per thread, overall or per tool."""

    name = "tool_call_limit"

    def setup(self) -> None:
        self.run_calls: Counter[str] = Counter()
        self.history_calls: Counter[str] | None = None

    async def before_model(self, request: ModelRequest) -> ModelRequest | None:
        if self.history_calls is None:
            # At the first model call of a run, every answered tool call in the request is history.
            self.history_calls = Counter(
                m.name for m in request.messages if isinstance(m, ToolResultMessage)
            )
        return None

    def _refusal(self, name: str) -> str | None:
        cfg = self.config
        run_total = sum(self.run_calls.values())
        history = self.history_calls or Counter()
        thread_total = run_total + sum(history.values())
        if cfg.run_limit is not None and run_total >= cfg.run_limit:
            return f"tool call limit reached: {cfg.run_limit} per run"
        if cfg.thread_limit is not None and thread_total >= cfg.thread_limit:
            return f"tool call limit reached: {cfg.thread_limit} per conversation"
        limit = cfg.per_tool_run_limit.get(name)
        if limit is not None and self.run_calls[name] >= limit:
            return f"tool call limit reached for {name!r}: {limit} per run"
        limit = cfg.per_tool_thread_limit.get(name)
        if limit is not None and self.run_calls[name] + history[name] >= limit:
            return f"tool call limit reached for {name!r}: {limit} per conversation"
        return None

    async def wrap_tool_call(
        self, invocation: ToolInvocation, call_next: ToolHandler
    ) -> ToolResultMessage:
        name = invocation.call.name
        refusal = self._refusal(name)
        if refusal is not None:
            if self.config.on_limit == "raise":
                raise UsageLimitExceeded(refusal)
            return tool_error(invocation.call, f"Not called: {refusal}. Answer with what you have.")
        # Counted before the call: concurrent calls of one step see each other.
        self.run_calls[name] += 1
        return await call_next(invocation)
