"""``logging``: one structured log line per model call and per tool call.

Each line carries the model, latency, tokens (reasoning tokens and the number of thinking parts
when there are any), the tools the model asked for (or the tool that ran) and the outcome, as ``key=value`` text and as ``record.aiops`` (a dict) for structured
handlers. Message bodies (the model's thinking included) are logged only at DEBUG level, and credentials
are redacted from them first. Error text is logged as the error's type and message, which never hold keys.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any, Literal

from pydantic import Field

from .._types import ModelHandler, StreamHandler, ToolHandler
from ..errors import ApprovalRequired
from ..messages import Message, ToolResultMessage
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    ModelStreamEvent,
    ResponseDone,
    TextDelta,
    ThinkingDelta,
)
from ..tools import ToolInvocation
from ._patterns import SECRET_TYPES, redact
from ._text import message_text
from .base import Middleware, MiddlewareConfig

__all__ = ["LoggingConfig", "LoggingMiddleware"]

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING}


class LoggingConfig(MiddlewareConfig):
    """Config of the ``logging`` middleware."""

    logger: str = Field("aiops_core.calls", description="logger name")
    level: Literal["DEBUG", "INFO", "WARNING"] = Field(
        "INFO", description="level of the call lines"
    )
    log_bodies: bool = Field(
        True, description="log (credential-redacted) message bodies at DEBUG level"
    )
    max_body_chars: int = Field(2000, ge=0, description="longest body logged per message")


def _fmt(fields: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)


class LoggingMiddleware(Middleware[LoggingConfig]):
    """One structured log line per model call and tool call; bodies only at DEBUG."""

    name = "logging"

    def setup(self) -> None:
        self.log = logging.getLogger(self.config.logger)
        self.level = _LEVELS[self.config.level]

    def _base(self, request: ModelRequest) -> dict[str, Any]:
        ctx = request.context or self.context
        return {
            "model": ctx.model if ctx else None,
            "run_id": ctx.run_id if ctx else None,
            "thread_id": ctx.thread_id if ctx else None,
            "step": ctx.step if ctx else None,
            "messages": len(request.messages),
            "tools": len(request.tools),
        }

    def _bodies(self, label: str, messages: Sequence[Message]) -> None:
        if not (self.config.log_bodies and self.log.isEnabledFor(logging.DEBUG)):
            return
        limit = self.config.max_body_chars
        for message in messages:
            text = message_text(message)
            clean, _ = redact(text[:limit], SECRET_TYPES, "[REDACTED]")
            self.log.debug("%s body: %s", label, clean)

    def _emit(self, event: str, fields: dict[str, Any]) -> None:
        log = self.log
        if log.isEnabledFor(self.level):
            # makeRecord + handle instead of log.log(): skips the caller lookup (a stack walk
            # that costs more than the rest of the line), which would name this module anyway.
            record = log.makeRecord(
                log.name,
                self.level,
                __file__,
                0,
                "%s %s",
                (event, _fmt(fields)),
                None,
                extra={"aiops": {"event": event, **fields}},
            )
            log.handle(record)

    def _done(self, fields: dict[str, Any], response: ModelResponse, start: float) -> None:
        usage = response.usage
        fields.update(
            latency_ms=round((time.perf_counter() - start) * 1000, 2),
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens or None,
            thinking_parts=len(response.message.thinking) or None,
            tool_calls=",".join(c.name for c in response.message.tool_calls) or None,
            finish=response.finish_reason,
            outcome="ok",
        )
        self._emit("model_call", fields)
        self._bodies("response", [response.message])

    def _failed(self, fields: dict[str, Any], err: BaseException, start: float) -> None:
        fields.update(
            latency_ms=round((time.perf_counter() - start) * 1000, 2),
            outcome=f"error:{type(err).__name__}",
        )
        self._emit("model_call", fields)

    def _active(self) -> bool:
        return self.log.isEnabledFor(self.level) or (
            self.config.log_bodies and self.log.isEnabledFor(logging.DEBUG)
        )

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        if not self._active():  # nothing would be written: stay out of the way
            return await call_next(request)
        fields = self._base(request)
        self._bodies("request", request.messages[-1:])
        start = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception as err:
            self._failed(fields, err, start)
            raise
        self._done(fields, response, start)
        return response

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        if not self._active():
            async for event in call_next(request):
                yield event
            return
        fields = self._base(request)
        fields["stream"] = True
        self._bodies("request", request.messages[-1:])
        start = time.perf_counter()
        first: float | None = None
        try:
            async for event in call_next(request):
                if first is None and isinstance(event, (TextDelta, ThinkingDelta)):
                    first = time.perf_counter()
                    fields["first_token_ms"] = round((first - start) * 1000, 2)
                if isinstance(event, ResponseDone):
                    self._done(fields, event.response, start)
                yield event
        except Exception as err:
            self._failed(fields, err, start)
            raise

    async def wrap_tool_call(
        self, invocation: ToolInvocation, call_next: ToolHandler
    ) -> ToolResultMessage:
        ctx = invocation.context
        fields: dict[str, Any] = {
            "tool": invocation.call.name,
            "call_id": invocation.call.id,
            "run_id": ctx.run_id,
            "thread_id": ctx.thread_id,
        }
        start = time.perf_counter()
        try:
            result = await call_next(invocation)
        except ApprovalRequired:
            fields.update(
                latency_ms=round((time.perf_counter() - start) * 1000, 2),
                outcome="approval_required",
            )
            self._emit("tool_call", fields)
            raise
        except Exception as err:
            fields.update(
                latency_ms=round((time.perf_counter() - start) * 1000, 2),
                outcome=f"error:{type(err).__name__}",
            )
            self._emit("tool_call", fields)
            raise
        fields.update(
            latency_ms=round((time.perf_counter() - start) * 1000, 2),
            outcome="tool_error" if result.is_error else "ok",
        )
        self._emit("tool_call", fields)
        self._bodies("tool result", [result])
        return result
