"""The Anthropic Messages API wire mapping: messages, thinking blocks, answers and streams.

Wire rules handled here: system messages go to ``system``; the results of one assistant turn go
back in ONE user message as ``tool_result`` blocks, in call order; consecutive messages of one
role are merged; an assistant turn's signed ``thinking`` and ``redacted_thinking`` blocks go
back first and unmodified (the API verifies them), and only to Anthropic; structured output is a
forced tool call whose input becomes the JSON answer (or, with thinking on, the API's native
JSON-schema output, since a forced tool call and thinking exclude each other).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from ..messages import (
    AssistantMessage,
    DataPart,
    ImagePart,
    Message,
    SystemMessage,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from ._openai_wire import schema_name
from ._thinking import own_thinking, turn_start
from .base import (
    ModelResponse,
    ModelStreamEvent,
    OutputSchema,
    StreamAccumulator,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    parse_arguments,
)

__all__ = [
    "StreamReader",
    "add_cache_breakpoints",
    "anthropic_messages",
    "lacks_thinking",
    "output_tool",
    "read_message",
    "read_usage",
]

PROVIDER = "anthropic"
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
}
_WRAP_KEY = "value"


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


def _thinking_block(part: ThinkingPart) -> dict[str, Any] | None:
    """A thinking part as the block it came from; ``None`` when it cannot be verified."""
    if part.redacted:
        return {"type": "redacted_thinking", "data": part.encrypted} if part.encrypted else None
    if part.signature is None:
        return None
    return {"type": "thinking", "thinking": part.text, "signature": part.signature}


def _assistant_blocks(message: AssistantMessage, thinking: list[ThinkingPart]) -> list[Any]:
    blocks: list[dict[str, Any]] = []
    for part in thinking:
        block = _thinking_block(part)
        if block is not None:
            blocks.append(block)
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    blocks.extend(
        {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
        for c in message.tool_calls
    )
    return blocks


def _result_block(message: ToolResultMessage) -> dict[str, Any]:
    content = message.content
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": message.tool_call_id,
        "content": content if isinstance(content, str) else _part_blocks(content),
    }
    if message.is_error:
        block["is_error"] = True
    return block


def anthropic_messages(
    messages: Sequence[Message], *, model: str | None = None
) -> tuple[str | None, list[dict[str, Any]]]:
    """``(system, messages)`` in Messages API form, with tool results paired and roles merged.

    Tool results travel as ``user`` blocks, so the results of one assistant turn (and any user
    text after them) merge into one user message, as the API requires. Anthropic thinking goes
    back with its assistant turn (see :mod:`._thinking` for which); other providers' is dropped.

    Args:
        messages: the conversation.
        model: the model about to be called (earlier turns' thinking of other models is left out).
    """
    system: list[str] = []
    out: list[dict[str, Any]] = []
    current = turn_start(messages)
    for index, message in enumerate(messages):
        match message:
            case SystemMessage():
                system.append(message.content)
                continue
            case UserMessage():
                role, blocks = "user", _part_blocks(message.content)
            case AssistantMessage():
                thinking = own_thinking(message, PROVIDER, model, current=index >= current)
                role, blocks = "assistant", _assistant_blocks(message, thinking)
            case ToolResultMessage():
                role, blocks = "user", [_result_block(message)]
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})
    return ("\n\n".join(system) if system else None), out


EPHEMERAL = {"type": "ephemeral"}
_UNMARKABLE = frozenset({"thinking", "redacted_thinking"})


def _mark_last(blocks: list[dict[str, Any]]) -> bool:
    """Put a breakpoint on the last block of ``blocks`` (a copy); whether one could go there."""
    if not blocks or blocks[-1].get("type") in _UNMARKABLE:
        return False
    blocks[-1] = {**blocks[-1], "cache_control": EPHEMERAL}
    return True


def add_cache_breakpoints(kwargs: dict[str, Any]) -> None:
    """Mark the stable prefix of a Messages API request for prompt caching (in place).

    The API caches the prefix up to a ``cache_control`` block, in the order tools, system,
    messages, with at most four breakpoints: the last tool, the system prompt, the end of the
    previous request's conversation (the user turn before the last assistant turn: read from
    the cache) and the last message (written for the next request). Unchanged blocks keep their
    bytes, so the prefixes stay identical between turns.
    """
    tools = kwargs.get("tools")
    if tools:
        kwargs["tools"] = tools = list(tools)
        _mark_last(tools)
    system = kwargs.get("system")
    if system:
        kwargs["system"] = [{"type": "text", "text": system, "cache_control": EPHEMERAL}]
    messages: list[dict[str, Any]] = kwargs["messages"]
    if not messages:
        return
    last = messages[-1]
    messages[-1] = last = {**last, "content": list(last["content"])}
    _mark_last(last["content"])
    answered = next(
        (i for i in range(len(messages) - 2, 0, -1) if messages[i]["role"] == "assistant"), None
    )
    if answered is not None and messages[answered - 1]["role"] == "user":
        earlier = messages[answered - 1]
        messages[answered - 1] = earlier = {**earlier, "content": list(earlier["content"])}
        _mark_last(earlier["content"])


def lacks_thinking(messages: list[dict[str, Any]]) -> bool:
    """Whether the request continues a tool call whose assistant turn has no thinking block.

    With thinking enabled the API requires that turn to start with one; a turn written by
    another provider (a fallback switched models mid-run) cannot have it.
    """
    if len(messages) < 2 or messages[-1]["role"] != "user" or messages[-2]["role"] != "assistant":
        return False
    if not any(block.get("type") == "tool_result" for block in messages[-1]["content"]):
        return False
    first = messages[-2]["content"][0] if messages[-2]["content"] else {}
    return first.get("type") not in ("thinking", "redacted_thinking")


def output_tool(schema: OutputSchema) -> tuple[dict[str, Any], bool]:
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


def read_usage(usage: Any) -> Usage:
    """Token counts of a Messages API ``usage`` object (thinking tokens where reported).

    The API's ``input_tokens`` leave out the tokens read from and written to the prompt cache;
    :class:`Usage` counts the whole prompt, as OpenAI does.
    """
    details = getattr(usage, "output_tokens_details", None)
    read = usage.cache_read_input_tokens or 0
    written = usage.cache_creation_input_tokens or 0
    return Usage(
        input_tokens=(usage.input_tokens or 0) + read + written,
        output_tokens=usage.output_tokens or 0,
        cached_tokens=read,
        cache_write_tokens=written,
        reasoning_tokens=(details.thinking_tokens or 0) if details is not None else 0,
        requests=1,
    )


def read_message(
    response: Any, model: str, output_name: str | None, wrapped: bool
) -> ModelResponse:
    """A :class:`ModelResponse` from a Messages API answer."""
    text: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[ThinkingPart] = []
    output: str | None = None
    for block in response.content:
        kind = block.type
        if kind == "text":
            text.append(block.text)
        elif kind == "tool_use":
            if block.name == output_name:
                output = _output_json(block.input, wrapped)
            else:
                calls.append(parse_arguments(block.id, block.name, cast(Any, block.input)))
        elif kind == "thinking":
            thinking.append(
                ThinkingPart(
                    text=block.thinking, signature=block.signature, provider=PROVIDER, model=model
                )
            )
        elif kind == "redacted_thinking":
            thinking.append(
                ThinkingPart(encrypted=block.data, redacted=True, provider=PROVIDER, model=model)
            )
    finish = FINISH.get(response.stop_reason or "", response.stop_reason)
    if output is not None and not calls:
        text, finish = [output], "stop"
    return ModelResponse(
        message=AssistantMessage(content="".join(text), tool_calls=calls, thinking=thinking),
        usage=read_usage(response.usage),
        finish_reason=finish,
        model=response.model,
        request_id=response._request_id,
    )


_NOTHING: tuple[ModelStreamEvent, ...] = ()


class StreamReader:
    """Reads one Messages API event stream: one method per event type, state in one place.

    Text, thinking and tool-call deltas are passed on (and accumulated); a thinking block's
    signature (or a redacted block's data) is kept for the final message; the structured-output
    tool's JSON is collected apart and becomes the answer text; usage, stop reason and model are
    noted.

    Args:
        model: the configured model name (recorded on thinking parts).
        output_name: the structured-output tool's name, if any.
        wrapped: that tool wraps a non-object answer in ``{"value": ...}``.
    """

    def __init__(self, model: str, output_name: str | None, wrapped: bool) -> None:
        self.output_name = output_name
        self.wrapped = wrapped
        self.acc = StreamAccumulator(PROVIDER, model)
        self.calls: dict[int, int] = {}  # content block index -> tool call index
        self.thinking: dict[int, int] = {}  # content block index -> thinking part index
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
        self.usage = read_usage(event.message.usage)
        return _NOTHING

    def _block_start(self, event: Any) -> Sequence[ModelStreamEvent]:
        block = event.content_block
        kind = block.type
        if kind == "text":
            return self._add(TextDelta(block.text)) if block.text else _NOTHING
        if kind in ("thinking", "redacted_thinking"):
            index = self.thinking[event.index] = len(self.thinking)
            if kind == "redacted_thinking":
                self.acc.thinking_part(index, encrypted=block.data, redacted=True)
                return _NOTHING
            self.acc.thinking_part(index, signature=block.signature or None)
            return self._add(ThinkingDelta(block.thinking, index)) if block.thinking else _NOTHING
        if kind != "tool_use":
            return _NOTHING
        if block.name == self.output_name:
            self.output_block = event.index
            return _NOTHING
        index = self.calls[event.index] = len(self.calls)
        return self._add(ToolCallDelta(index, block.id, block.name))

    def _block_delta(self, event: Any) -> Sequence[ModelStreamEvent]:
        delta = event.delta
        kind = delta.type
        if kind == "text_delta":
            return self._add(TextDelta(delta.text))
        if kind == "thinking_delta":
            return self._add(ThinkingDelta(delta.thinking, self.thinking.get(event.index, 0)))
        if kind == "signature_delta":
            self.acc.thinking_part(self.thinking.get(event.index, 0), signature=delta.signature)
            return _NOTHING
        if kind != "input_json_delta":
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
        usage = event.usage
        update: dict[str, int] = {"output_tokens": usage.output_tokens or self.usage.output_tokens}
        details = getattr(usage, "output_tokens_details", None)
        if details is not None:
            update["reasoning_tokens"] = details.thinking_tokens or 0
        self.usage = self.usage.model_copy(update=update)
        return _NOTHING

    def _add(self, event: TextDelta | ThinkingDelta | ToolCallDelta) -> Sequence[ModelStreamEvent]:
        self.acc.add(event)
        return (event,)

    def response(self, request_id: str | None) -> ModelResponse:
        """The assembled response, once the stream has ended."""
        finish = FINISH.get(self.stop_reason or "", self.stop_reason)
        message = self.acc.message()
        if self.output_block is not None and not message.tool_calls:
            raw = "".join(self.output_parts)
            try:
                text = _output_json(json.loads(raw or "null"), self.wrapped)
            except ValueError:
                text = raw  # the agent reports the invalid JSON back to the model
            message, finish = AssistantMessage(content=text, thinking=message.thinking), "stop"
        return ModelResponse(
            message=message,
            usage=self.usage,
            finish_reason=finish,
            model=self.model,
            request_id=request_id,
        )
