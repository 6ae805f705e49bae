"""A minimal ``ChatModel`` over the ``openai`` SDK, used only while the real handler is missing.

It maps messages and responses the way ``aiops_core.providers.openai`` does, so the harness runs
on a branch without that handler. :func:`benchmarks._clients.aiops_model` prefers the real handler
(``get_chat_model("openai:...")``) whenever it is importable and says which one it used.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from aiops_core.messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from aiops_core.providers.base import (
    ModelRequest,
    ModelResponse,
    ModelStreamEvent,
    StreamAccumulator,
    TextDelta,
    ToolCallDelta,
    parse_arguments,
)

__all__ = ["BenchOpenAIModel"]


def _wire_message(message: Message) -> dict[str, Any]:
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, UserMessage):
        return {"role": "user", "content": message.text}
    if isinstance(message, ToolResultMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text}
    out: dict[str, Any] = {"role": "assistant", "content": message.content or None}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
            }
            for c in message.tool_calls
        ]
    return out


class BenchOpenAIModel:
    """``ChatModel`` over ``openai.AsyncOpenAI`` (benchmark stand-in for the real handler)."""

    def __init__(self, client: Any, model: str) -> None:
        self.client = client
        self.model = model

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    def _params(self, request: ModelRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": self.model,
            "messages": [_wire_message(m) for m in request.messages],
        }
        if request.tools:
            params["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
        params.update(request.settings)
        return params

    async def complete(self, request: ModelRequest) -> ModelResponse:
        response = await self.client.chat.completions.create(**self._params(request))
        choice = response.choices[0]
        calls = [
            parse_arguments(c.id, c.function.name, c.function.arguments)
            for c in choice.message.tool_calls or ()
        ]
        usage = Usage(
            input_tokens=response.usage.prompt_tokens,
            output_tokens=response.usage.completion_tokens,
            requests=1,
        )
        return ModelResponse(
            message=AssistantMessage(content=choice.message.content or "", tool_calls=calls),
            usage=usage,
            finish_reason=choice.finish_reason,
            model=response.model,
            request_id=response.id,
        )

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        from aiops_core.providers.base import ResponseDone

        params = self._params(request)
        stream = await self.client.chat.completions.create(
            **params, stream=True, stream_options={"include_usage": True}
        )
        acc = StreamAccumulator()
        usage = Usage(requests=1)
        finish = None
        async for chunk in stream:
            if chunk.usage is not None:
                usage = Usage(
                    input_tokens=chunk.usage.prompt_tokens,
                    output_tokens=chunk.usage.completion_tokens,
                    requests=1,
                )
            for choice in chunk.choices:
                delta = choice.delta
                finish = choice.finish_reason or finish
                if delta.content:
                    event: TextDelta | ToolCallDelta = TextDelta(delta.content)
                    acc.add(event)
                    yield event
                for tc in delta.tool_calls or ():
                    fn = tc.function
                    event = ToolCallDelta(
                        tc.index, tc.id, fn.name if fn else None, (fn.arguments or "") if fn else ""
                    )
                    acc.add(event)
                    yield event
        yield ResponseDone(acc.response(usage=usage, finish_reason=finish))

    async def aclose(self) -> None:
        await self.client.close()
