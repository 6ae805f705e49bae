"""The ``function`` model: a Python callable decides each response.

For users' own tests of agents, tools and middleware::

    def reply(request: ModelRequest) -> str | AssistantMessage | ModelResponse:
        ...

    agent = Agent(model=FunctionModel(reply))

The callable may be sync or async. ``stream_function`` (optional) yields ``str`` chunks,
:class:`~aiops_core.providers.base.ThinkingDelta` or
:class:`~aiops_core.providers.base.ToolCallDelta` events; without it, streams are derived from
the callable's complete response (thinking parts included).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

from ..errors import UserError
from ..messages import AssistantMessage, Usage
from .base import (
    ModelRequest,
    ModelResponse,
    ModelStreamEvent,
    ResponseDone,
    StreamAccumulator,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    response_events,
)
from .registry import ProviderConfig, ProviderHandler

__all__ = ["FunctionHandler", "FunctionModel"]

ReplyFunction = Callable[[ModelRequest], Any]
StreamFunction = Callable[
    [ModelRequest], AsyncIterator[str | TextDelta | ThinkingDelta | ToolCallDelta]
]


def _as_response(value: Any, label: str) -> ModelResponse:
    if isinstance(value, ModelResponse):
        return value
    if isinstance(value, AssistantMessage):
        message = value
    elif isinstance(value, str):
        message = AssistantMessage(content=value)
    else:
        raise UserError(
            f"FunctionModel callable returned {type(value).__name__}; "
            "return a str, an AssistantMessage or a ModelResponse"
        )
    finish = "tool_calls" if message.tool_calls else "stop"
    return ModelResponse(
        message=message, usage=Usage(requests=1), finish_reason=finish, model=label
    )


class FunctionModel:
    """A model whose every response comes from ``function(request)``.

    Args:
        function: returns ``str``, :class:`AssistantMessage` or :class:`ModelResponse`.
        stream_function: optional async generator of text chunks / tool-call deltas.
        model_name: label shown in ``name``.
    """

    def __init__(
        self,
        function: ReplyFunction | None = None,
        *,
        stream_function: StreamFunction | None = None,
        model_name: str = "function",
    ) -> None:
        if function is None and stream_function is None:
            raise UserError("FunctionModel needs `function` or `stream_function`")
        self.function = function
        self.stream_function = stream_function
        self.model_name = model_name or "function"

    @property
    def name(self) -> str:
        return f"function:{self.model_name}"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        if self.function is None:
            response: ModelResponse | None = None
            async for event in self.stream(request):
                if isinstance(event, ResponseDone):
                    response = event.response
            if response is None:
                raise UserError("FunctionModel stream_function ended without a response")
            return response
        value = self.function(request)
        if inspect.isawaitable(value):
            value = await value
        return _as_response(value, self.name)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        if self.stream_function is None:
            for replayed in response_events(await self.complete(request)):
                yield replayed
            return
        acc = StreamAccumulator("function", self.model_name)
        async for item in self.stream_function(request):
            event = TextDelta(item) if isinstance(item, str) else item
            acc.add(event)
            yield event
        message = acc.message()
        yield ResponseDone(
            ModelResponse(
                message=message,
                usage=Usage(requests=1),
                finish_reason="tool_calls" if message.tool_calls else "stop",
                model=self.name,
            )
        )

    async def aclose(self) -> None:
        return None


class FunctionHandler(ProviderHandler):
    """Registry entry ``function``: ``get_chat_model("function", function=reply)``."""

    name = "function"
    Config = ProviderConfig
    options = frozenset({"function", "stream_function"})

    def create(self, model: str, config: ProviderConfig, **options: Any) -> FunctionModel:
        return FunctionModel(
            options.get("function"),
            stream_function=options.get("stream_function"),
            model_name=model or "function",
        )
