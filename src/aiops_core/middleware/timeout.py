"""``timeout``: a deadline for every model call and every tool call.

A model call that passes ``model_timeout`` raises
:class:`~aiops_core.errors.ProviderTimeoutError`, which is retryable: a ``retry`` middleware
outside this one (lower priority number) tries again. For a streamed call the deadline covers
the whole stream. A tool call that passes ``tool_timeout`` returns a tool error to the model, like
a tool's own timeout.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from pydantic import Field

from .._types import ModelHandler, StreamHandler, ToolHandler
from ..errors import ProviderTimeoutError
from ..messages import ToolResultMessage
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent
from ..tools import ToolInvocation, tool_error
from .base import Middleware, MiddlewareConfig

__all__ = ["TimeoutConfig", "TimeoutMiddleware"]


class TimeoutConfig(MiddlewareConfig):
    """Config of the ``timeout`` middleware (``None`` turns a deadline off)."""

    model_timeout: float | None = Field(120.0, gt=0, description="seconds per model call")
    tool_timeout: float | None = Field(60.0, gt=0, description="seconds per tool call")


class TimeoutMiddleware(Middleware[TimeoutConfig]):
    """Deadlines for each model call and each tool call."""

    name = "timeout"

    def _error(self, request: ModelRequest) -> ProviderTimeoutError:
        ctx = request.context or self.context
        provider = ctx.model.partition(":")[0] if ctx is not None and ctx.model else None
        return ProviderTimeoutError(
            f"model call took longer than {self.config.model_timeout}s (timeout middleware)",
            provider=provider,
        )

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        if self.config.model_timeout is None:
            return await call_next(request)
        try:
            with anyio.fail_after(self.config.model_timeout):
                return await call_next(request)
        except TimeoutError as err:
            raise self._error(request) from err

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        if self.config.model_timeout is None:
            async for event in call_next(request):
                yield event
            return
        deadline = anyio.current_time() + self.config.model_timeout
        stream = call_next(request)
        try:
            while True:
                # The cancel scope lives within one step; it never spans a `yield`.
                try:
                    with anyio.fail_after(max(0.0, deadline - anyio.current_time())):
                        event = await stream.__anext__()
                except StopAsyncIteration:
                    return
                except TimeoutError as err:
                    raise self._error(request) from err
                yield event
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()

    async def wrap_tool_call(
        self, invocation: ToolInvocation, call_next: ToolHandler
    ) -> ToolResultMessage:
        limit = self.config.tool_timeout
        if limit is None:
            return await call_next(invocation)
        try:
            with anyio.fail_after(limit):
                return await call_next(invocation)
        except TimeoutError:
            return tool_error(
                invocation.call,
                f"ToolTimeoutError: tool {invocation.call.name!r} timed out after {limit}s",
            )
