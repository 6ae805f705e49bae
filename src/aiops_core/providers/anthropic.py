"""The ``anthropic`` handler: Claude models through the official ``anthropic`` SDK (Messages API).

Wire rules handled here: system messages go to ``system``; the results of one assistant turn go
back in ONE user message as ``tool_result`` blocks, in call order; consecutive messages of one
role are merged; structured output is a forced tool call whose input becomes the JSON answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import Field

from ..messages import (
    AssistantMessage,
    DataPart,
    ImagePart,
    Message,
    SystemMessage,
    TextPart,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from ._config import ChatConfig, resolve_secret
from ._model import SDKChatModel
from ._openai_wire import schema_name
from .base import (
    ModelRequest,
    ModelResponse,
    ModelSettings,
    ModelStreamEvent,
    OutputSchema,
    ResponseDone,
    StreamAccumulator,
    TextDelta,
    ToolCallDelta,
    parse_arguments,
)
from .registry import ProviderConfig, ProviderHandler

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = ["AnthropicChatModel", "AnthropicConfig", "AnthropicHandler", "anthropic_messages"]

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
}
_WRAP_KEY = "value"


class AnthropicConfig(ChatConfig):
    """Config of the ``anthropic`` handler (``max_tokens`` is required by the API: default 4096)."""

    max_tokens: int | None = Field(4096, ge=1, description="most tokens in the answer")


def _part_blocks(content: str | Sequence[Any]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            if part.url:
                source: dict[str, Any] = {"type": "url", "url": part.url}
            else:
                source = {"type": "base64", "media_type": part.media_type, "data": part.data}
            blocks.append({"type": "image", "source": source})
        elif isinstance(part, DataPart):
            blocks.append({"type": "text", "text": json.dumps(part.data, default=str)})
    return blocks


def _blocks(message: UserMessage | AssistantMessage | ToolResultMessage) -> list[dict[str, Any]]:
    """The content blocks of one non-system message."""
    match message:
        case UserMessage():
            return _part_blocks(message.content)
        case AssistantMessage():
            blocks: list[dict[str, Any]] = []
            if message.content:
                blocks.append({"type": "text", "text": message.content})
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                for c in message.tool_calls
            )
            return blocks
        case ToolResultMessage():
            content = message.content
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": content if isinstance(content, str) else _part_blocks(content),
            }
            if message.is_error:
                block["is_error"] = True
            return [block]


def anthropic_messages(messages: Sequence[Message]) -> tuple[str | None, list[dict[str, Any]]]:
    """``(system, messages)`` in Messages API form, with tool results paired and roles merged.

    Tool results travel as ``user`` blocks, so the results of one assistant turn (and any user
    text after them) merge into one user message, as the API requires.
    """
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            system.append(message.content)
            continue
        blocks = _blocks(message)
        if not blocks:
            continue
        role = "assistant" if isinstance(message, AssistantMessage) else "user"
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return ("\n\n".join(system) if system else None), out


def _output_tool(schema: OutputSchema) -> tuple[dict[str, Any], bool]:
    """The tool that carries structured output; wraps non-object schemas in ``{"value": ...}``."""
    json_schema = schema.json_schema
    wrapped = json_schema.get("type") != "object"
    if wrapped:
        defs = json_schema.get("$defs")
        inner = {k: v for k, v in json_schema.items() if k != "$defs"}
        json_schema = {"type": "object", "properties": {_WRAP_KEY: inner}, "required": [_WRAP_KEY]}
        if defs:
            json_schema["$defs"] = defs
    name = schema_name(schema)
    tool = {
        "name": name,
        "description": f"Give the final answer as {name}: call this tool once with the answer.",
        "input_schema": json_schema,
    }
    return tool, wrapped


def _output_json(value: Any, wrapped: bool) -> str:
    if wrapped and isinstance(value, dict):
        value = value.get(_WRAP_KEY)
    return json.dumps(value)


class AnthropicChatModel(SDKChatModel["AsyncAnthropic"]):
    """A Claude model."""

    provider: ClassVar[str] = "anthropic"

    def _new_client(self) -> AsyncAnthropic:
        from anthropic import AsyncAnthropic

        config = self.config
        return AsyncAnthropic(
            api_key=self._secret,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            default_headers=config.extra_headers or None,
            http_client=self._http_client,
        )

    async def _close_client(self, client: AsyncAnthropic) -> None:
        await client.close()

    def _kwargs(self, request: ModelRequest) -> tuple[dict[str, Any], str | None, bool]:
        settings: ModelSettings = self._settings(request)
        system, messages = anthropic_messages(request.messages)
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        if system:
            kwargs["system"] = system
        tools = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
        choice: dict[str, Any] | None = None
        serial = False
        extra: dict[str, Any] = {}
        kwargs["max_tokens"] = 4096
        for key, value in settings.items():
            if key == "max_tokens":
                kwargs["max_tokens"] = value
            elif key in ("temperature", "top_p"):
                extra[key] = value  # this SDK release has no argument for them; the API takes them
            elif key == "stop":
                kwargs["stop_sequences"] = value
            elif key == "tool_choice":
                if value in ("auto", "none"):
                    choice = {"type": value}
                elif value == "required":
                    choice = {"type": "any"}
                else:
                    choice = {"type": "tool", "name": value}
            elif key == "parallel_tool_calls":
                serial = value is False
            elif key != "seed":  # the Messages API has no seed
                extra[key] = value
        output_name: str | None = None
        wrapped = False
        if request.output_schema is not None:
            tool, wrapped = _output_tool(request.output_schema)
            output_name = tool["name"]
            # Force the answer tool; with other tools, force "some tool" so those stay callable.
            choice = {"type": "any"} if tools else {"type": "tool", "name": output_name}
            tools.append(tool)
        if serial and (choice is None or choice["type"] != "none"):
            choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
        if tools:
            kwargs["tools"] = tools
            if choice is not None:
                kwargs["tool_choice"] = choice
        if extra:
            kwargs["extra_body"] = extra
        return kwargs, output_name, wrapped

    async def _complete(self, client: AsyncAnthropic, request: ModelRequest) -> ModelResponse:
        kwargs, output_name, wrapped = self._kwargs(request)
        response = await client.messages.create(**kwargs)
        text: list[str] = []
        calls: list[ToolCall] = []
        output: str | None = None
        for block in response.content:
            if block.type == "text":
                text.append(block.text)
            elif block.type == "tool_use":
                if block.name == output_name:
                    output = _output_json(block.input, wrapped)
                else:
                    calls.append(parse_arguments(block.id, block.name, cast(Any, block.input)))
        finish = _FINISH.get(response.stop_reason or "", response.stop_reason)
        if output is not None and not calls:
            text, finish = [output], "stop"
        return ModelResponse(
            message=AssistantMessage(content="".join(text), tool_calls=calls),
            usage=_usage(response.usage),
            finish_reason=finish,
            model=response.model,
            request_id=response._request_id,
        )

    async def _stream(
        self, client: AsyncAnthropic, request: ModelRequest
    ) -> AsyncIterator[ModelStreamEvent]:
        kwargs, output_name, wrapped = self._kwargs(request)
        stream = await client.messages.create(**kwargs, stream=True)
        reader = _StreamReader(output_name, wrapped)
        async with stream:
            request_id = stream.response.headers.get("request-id")
            async for event in stream:
                for out in reader.read(event):
                    yield out
        yield ResponseDone(reader.response(request_id))


def _usage(usage: Any) -> Usage:
    """Token counts of a Messages API ``usage`` object."""
    return Usage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cached_tokens=usage.cache_read_input_tokens or 0,
        requests=1,
    )


_NOTHING: tuple[ModelStreamEvent, ...] = ()


class _StreamReader:
    """Reads one Messages API event stream: one method per event type, state in one place.

    Text and tool-call deltas are passed on (and accumulated); the structured-output tool's JSON
    is collected apart and becomes the answer text; usage, stop reason and model are noted.
    """

    def __init__(self, output_name: str | None, wrapped: bool) -> None:
        self.output_name = output_name
        self.wrapped = wrapped
        self.acc = StreamAccumulator()
        self.calls: dict[int, int] = {}  # content block index -> tool call index
        self.output_block: int | None = None
        self.output_parts: list[str] = []
        self.usage = Usage(requests=1)
        self.stop_reason: str | None = None
        self.model: str | None = None
        self._handlers: dict[str, Callable[[Any], Sequence[ModelStreamEvent]]] = {
            "message_start": self._message_start,
            "content_block_start": self._block_start,
            "content_block_delta": self._block_delta,
            "message_delta": self._message_delta,
        }

    def read(self, event: Any) -> Sequence[ModelStreamEvent]:
        """The stream events one API event produces (most produce none or one)."""
        handler = self._handlers.get(event.type)
        return _NOTHING if handler is None else handler(event)

    def _message_start(self, event: Any) -> Sequence[ModelStreamEvent]:
        self.model = event.message.model
        self.usage = _usage(event.message.usage)
        return _NOTHING

    def _block_start(self, event: Any) -> Sequence[ModelStreamEvent]:
        block = event.content_block
        if block.type == "text":
            return self._add(TextDelta(block.text)) if block.text else _NOTHING
        if block.type != "tool_use":
            return _NOTHING
        if block.name == self.output_name:
            self.output_block = event.index
            return _NOTHING
        index = self.calls[event.index] = len(self.calls)
        return self._add(ToolCallDelta(index, block.id, block.name))

    def _block_delta(self, event: Any) -> Sequence[ModelStreamEvent]:
        delta = event.delta
        if delta.type == "text_delta":
            return self._add(TextDelta(delta.text))
        if delta.type != "input_json_delta":
            return _NOTHING
        if event.index == self.output_block:
            self.output_parts.append(delta.partial_json)
            # A wrapped answer's JSON is not the answer's text; an unwrapped one is.
            show = not self.wrapped and delta.partial_json
            return (TextDelta(delta.partial_json),) if show else _NOTHING
        index = self.calls.get(event.index)
        if index is None:
            return _NOTHING
        return self._add(ToolCallDelta(index, arguments=delta.partial_json))

    def _message_delta(self, event: Any) -> Sequence[ModelStreamEvent]:
        self.stop_reason = event.delta.stop_reason or self.stop_reason
        output_tokens = event.usage.output_tokens or self.usage.output_tokens
        self.usage = self.usage.model_copy(update={"output_tokens": output_tokens})
        return _NOTHING

    def _add(self, event: TextDelta | ToolCallDelta) -> Sequence[ModelStreamEvent]:
        self.acc.add(event)
        return (event,)

    def response(self, request_id: str | None) -> ModelResponse:
        """The assembled response, once the stream has ended."""
        finish = _FINISH.get(self.stop_reason or "", self.stop_reason)
        message = self.acc.message()
        if self.output_block is not None and not message.tool_calls:
            raw = "".join(self.output_parts)
            try:
                text = _output_json(json.loads(raw or "null"), self.wrapped)
            except ValueError:
                text = raw  # the agent reports the invalid JSON back to the model
            message, finish = AssistantMessage(content=text), "stop"
        return ModelResponse(
            message=message,
            usage=self.usage,
            finish_reason=finish,
            model=self.model,
            request_id=request_id,
        )


class AnthropicHandler(ProviderHandler):
    """Registry entry ``anthropic``: ``get_chat_model("anthropic:claude-sonnet-4-5")``."""

    name = "anthropic"
    Config = AnthropicConfig
    sdk = "anthropic"
    extra = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"

    def create(self, model: str, config: ProviderConfig, **options: Any) -> AnthropicChatModel:
        secret = resolve_secret(options.get("api_key"), "ANTHROPIC_API_KEY", provider=self.name)
        return AnthropicChatModel(
            model,
            cast(AnthropicConfig, config),
            secret=secret,
            http_client=options.get("http_client"),
        )
