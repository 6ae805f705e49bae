"""The OpenAI Responses API wire mapping, shared by ``openai`` and ``azure_openai`` (``api="responses"``).

Both transports use it: the SDK path hands it the SDK's typed objects, the lean transport plain
decoded dicts; every read goes through :func:`~._openai_wire.value_of`, which takes either.

Reasoning is carried between calls without state at the provider: with ``store`` false (the
default) the request asks for ``reasoning.encrypted_content``, each ``reasoning`` output item
becomes a :class:`~aiops_core.messages.ThinkingPart` (summary text, encrypted content, item id)
and goes back in the next request's input in front of the items that followed it, which keep
their ids (``msg_...``, ``fc_...``) so the API can pair them. Reasoning that cannot be read back
(no encrypted content without ``store``) and another provider's thinking are left out, and so are
the item ids that would point at it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ProviderError, RateLimitError, ServerError
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
    content_text,
)
from ._openai_wire import call_arguments, schema_name, value_of
from ._thinking import own_thinking, turn_start
from .base import (
    REASONING_KEYS,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    ModelStreamEvent,
    StreamAccumulator,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    parse_arguments,
)

if TYPE_CHECKING:
    from ..tools import ToolDefinition

__all__ = [
    "ResponsesStreamReader",
    "build_responses_request",
    "read_responses",
    "responses_input",
    "stream_error",
]

ENCRYPTED_REASONING = "reasoning.encrypted_content"
_KNOWN = frozenset({"temperature", "top_p"})
# The Responses API has no stop and no seed; other handlers' reasoning keys are not for it.
_DROPPED = frozenset({"stop", "seed"}) | (
    REASONING_KEYS - {"reasoning_effort", "reasoning_summary"}
)
_REASONING = frozenset({"reasoning_effort", "reasoning_summary"})


# ------------------------------------------------------------------------------ requests
def _user_content(content: str | Sequence[Any]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"type": "input_text", "text": part.text})
        elif isinstance(part, ImagePart):
            url = part.url or f"data:{part.media_type};base64,{part.data}"
            parts.append({"type": "input_image", "image_url": url, "detail": "auto"})
        elif isinstance(part, DataPart):
            parts.append({"type": "input_text", "text": json.dumps(part.data, default=str)})
    return parts


def _assistant_items(
    message: AssistantMessage, thinking: list[ThinkingPart], store: bool
) -> list[dict[str, Any]]:
    """An assistant message as output items: its reasoning first, then text and calls."""
    items: list[dict[str, Any]] = []
    for part in thinking:
        if part.id is None or (part.encrypted is None and not store):
            continue  # without encrypted content (or storage) the API cannot read it back
        summary = [{"type": "summary_text", "text": part.text}] if part.text else []
        item: dict[str, Any] = {"type": "reasoning", "id": part.id, "summary": summary}
        if part.encrypted is not None:
            item["encrypted_content"] = part.encrypted
        items.append(item)
    with_ids = bool(items)  # ids pair the items with the reasoning that preceded them
    if message.content:
        if with_ids and message.item_id:
            text = {"type": "output_text", "text": message.content, "annotations": []}
            items.append(
                {
                    "type": "message",
                    "id": message.item_id,
                    "role": "assistant",
                    "status": "completed",
                    "content": [text],
                }
            )
        else:
            items.append({"role": "assistant", "content": message.content})
    for call in message.tool_calls:
        item = {
            "type": "function_call",
            "call_id": call.id,
            "name": call.name,
            "arguments": call_arguments(call),
        }
        if with_ids and call.item_id:
            item["id"] = call.item_id
        items.append(item)
    return items


def responses_input(
    messages: Sequence[Message], *, provider: str, model: str | None, store: bool
) -> list[dict[str, Any]]:
    """Messages as Responses API input items.

    Args:
        messages: the conversation.
        provider: the handler about to be called (only its own reasoning goes back).
        model: its model (earlier turns' reasoning of other models is left out).
        store: the provider keeps responses (reasoning without encrypted content may go back).
    """
    items: list[dict[str, Any]] = []
    current = turn_start(messages)
    for index, message in enumerate(messages):
        match message:
            case SystemMessage():
                items.append({"role": "system", "content": message.content})
            case UserMessage():
                items.append({"role": "user", "content": _user_content(message.content)})
            case AssistantMessage():
                thinking = own_thinking(message, provider, model, current=index >= current)
                items.extend(_assistant_items(message, thinking, store))
            case ToolResultMessage():
                items.append(
                    {
                        "type": "function_call_output",
                        "call_id": message.tool_call_id,
                        "output": content_text(message.content),
                    }
                )
    return items


def _tools(tools: Sequence[ToolDefinition]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": t.name,
            "description": t.description,
            "parameters": t.parameters,
            "strict": False,
        }
        for t in tools
    ]


def _tool_choice(choice: str) -> str | dict[str, Any]:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "name": choice}


def build_responses_request(
    request: ModelRequest,
    settings: ModelSettings,
    *,
    provider: str,
    model: str,
    store: bool,
) -> dict[str, Any]:
    """Keyword arguments for ``responses.create`` (with ``model``, without ``stream``).

    Settings the API has no parameter for go into ``extra_body``; ``stop`` and ``seed`` (which
    it does not have) are left out.
    """
    kwargs: dict[str, Any] = {
        "model": model,
        "input": responses_input(request.messages, provider=provider, model=model, store=store),
        "store": store,
    }
    has_tools = bool(request.tools)
    if has_tools:
        kwargs["tools"] = _tools(request.tools)
    reasoning: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in settings.items():
        if key in _KNOWN:
            kwargs[key] = value
        elif key == "max_tokens":
            kwargs["max_output_tokens"] = value
        elif key == "tool_choice":
            if has_tools:
                kwargs["tool_choice"] = _tool_choice(str(value))
        elif key == "parallel_tool_calls":
            if has_tools:
                kwargs["parallel_tool_calls"] = value
        elif key == "reasoning_effort":
            reasoning["effort"] = value
        elif key == "reasoning_summary":
            reasoning["summary"] = value
        elif key not in _DROPPED:
            extra[key] = value
    if reasoning:
        kwargs["reasoning"] = reasoning
        if not store and (reasoning.get("effort") != "none" or "summary" in reasoning):
            kwargs["include"] = [ENCRYPTED_REASONING]
    schema = request.output_schema
    if schema is not None:
        kwargs["text"] = {
            "format": {
                "type": "json_schema",
                "name": schema_name(schema),
                "schema": schema.json_schema,
                "strict": False,
            }
        }
    if extra:
        kwargs["extra_body"] = extra
    return kwargs


# ------------------------------------------------------------------------------ answers
def _joined(parts: Any) -> str:
    return "\n\n".join(value_of(p, "text") or "" for p in parts or ())


def _thinking_part(item: Any, provider: str, model: str | None) -> ThinkingPart:
    text = _joined(value_of(item, "summary")) or _joined(value_of(item, "content"))
    return ThinkingPart(
        text=text,
        encrypted=value_of(item, "encrypted_content"),
        id=value_of(item, "id"),
        provider=provider,
        model=model,
    )


def read_usage(usage: Any) -> Usage:
    """Token counts of a Responses API ``usage`` (an SDK object or a dict)."""
    if usage is None:
        return Usage(requests=1)
    return Usage(
        input_tokens=value_of(usage, "input_tokens") or 0,
        output_tokens=value_of(usage, "output_tokens") or 0,
        cached_tokens=value_of(value_of(usage, "input_tokens_details"), "cached_tokens") or 0,
        reasoning_tokens=value_of(value_of(usage, "output_tokens_details"), "reasoning_tokens")
        or 0,
        requests=1,
    )


def _finish(response: Any, calls: bool) -> str | None:
    status = value_of(response, "status")
    if status == "incomplete":
        reason = value_of(value_of(response, "incomplete_details"), "reason")
        return "length" if reason == "max_output_tokens" else reason or status
    if status in (None, "completed"):
        return "tool_calls" if calls else "stop"
    return str(status)


def _message(output: Sequence[Any], provider: str, model: str | None) -> AssistantMessage:
    text: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[ThinkingPart] = []
    item_id: str | None = None
    for item in output:
        kind = value_of(item, "type")
        if kind == "message":
            item_id = item_id or value_of(item, "id")
            for part in value_of(item, "content") or ():
                part_type = value_of(part, "type")
                if part_type == "output_text":
                    text.append(value_of(part, "text") or "")
                elif part_type == "refusal":
                    text.append(value_of(part, "refusal") or "")
        elif kind == "function_call":
            calls.append(
                parse_arguments(
                    value_of(item, "call_id"),
                    value_of(item, "name"),
                    value_of(item, "arguments"),
                    item_id=value_of(item, "id"),
                )
            )
        elif kind == "reasoning":
            thinking.append(_thinking_part(item, provider, model))
    return AssistantMessage(
        content="".join(text), tool_calls=calls, thinking=thinking, item_id=item_id
    )


def read_responses(
    response: Any, request_id: str | None, *, provider: str, model: str | None
) -> ModelResponse:
    """A :class:`ModelResponse` from a Responses API response (SDK object or dict)."""
    message = _message(value_of(response, "output") or (), provider, model)
    return ModelResponse(
        message=message,
        usage=read_usage(value_of(response, "usage")),
        finish_reason=_finish(response, bool(message.tool_calls)),
        model=value_of(response, "model"),
        request_id=request_id,
    )


def stream_error(event: Any, *, provider: str, request_id: str | None) -> ProviderError | None:
    """The error an ``error`` or ``response.failed`` stream event reports, if it is one."""
    kind = value_of(event, "type")
    if kind == "error":
        code, message = value_of(event, "code"), value_of(event, "message")
    elif kind == "response.failed":
        error = value_of(value_of(event, "response"), "error")
        code, message = value_of(error, "code"), value_of(error, "message")
    else:
        return None
    text = str(message or "the response failed")
    if code in ("rate_limit_exceeded", "rate_limit_error"):
        return RateLimitError(text, provider=provider, request_id=request_id)
    return ServerError(text, provider=provider, request_id=request_id)


_NOTHING: tuple[ModelStreamEvent, ...] = ()


class ResponsesStreamReader:
    """Reads one Responses API event stream (SDK event objects or decoded dicts).

    Reasoning summary (or reasoning text) deltas become :class:`ThinkingDelta` events, text
    deltas :class:`TextDelta`, function-call items and argument deltas :class:`ToolCallDelta`.
    The final message comes from ``response.completed`` (its full output, with encrypted
    reasoning), or from the items seen when a server sends an empty one.

    Args:
        provider: the handler name (recorded on thinking parts, named in errors).
        model: the configured model name.
        request_id: the request id (named in errors).
    """

    def __init__(self, provider: str, model: str | None, request_id: str | None) -> None:
        self.provider = provider
        self.model = model
        self.request_id = request_id
        self.acc = StreamAccumulator(provider, model)
        self.calls: dict[int, int] = {}  # output index -> tool call index
        self.thinking: dict[int, int] = {}  # output index -> thinking part index
        self.items: dict[int, Any] = {}  # output index -> finished item
        self.final: Any = None
        self.response_model: str | None = None
        self._handlers: dict[str, Callable[[Any], Sequence[ModelStreamEvent]]] = {
            "response.created": self._started,
            "response.output_item.added": self._item_added,
            "response.output_item.done": self._item_done,
            "response.reasoning_summary_part.added": self._summary_part,
            "response.reasoning_summary_text.delta": self._thinking_delta,
            "response.reasoning_text.delta": self._thinking_delta,
            "response.output_text.delta": self._text_delta,
            "response.refusal.delta": self._text_delta,
            "response.function_call_arguments.delta": self._arguments_delta,
            "response.completed": self._finished,
            "response.incomplete": self._finished,
        }

    def read(self, event: Any) -> Sequence[ModelStreamEvent]:
        """The stream events one API event produces; an error event raises its error."""
        kind = value_of(event, "type")
        handler = self._handlers.get(kind)
        if handler is not None:
            return handler(event)
        error = stream_error(event, provider=self.provider, request_id=self.request_id)
        if error is not None:
            raise error
        return _NOTHING

    def _add(self, event: TextDelta | ThinkingDelta | ToolCallDelta) -> Sequence[ModelStreamEvent]:
        self.acc.add(event)
        return (event,)

    def _started(self, event: Any) -> Sequence[ModelStreamEvent]:
        self.response_model = value_of(value_of(event, "response"), "model")
        return _NOTHING

    def _item_added(self, event: Any) -> Sequence[ModelStreamEvent]:
        item, index = value_of(event, "item"), value_of(event, "output_index") or 0
        kind = value_of(item, "type")
        if kind == "reasoning":
            number = self.thinking[index] = len(self.thinking)
            self.acc.thinking_part(number, id=value_of(item, "id"))
        elif kind == "function_call":
            number = self.calls[index] = len(self.calls)
            return self._add(
                ToolCallDelta(number, value_of(item, "call_id"), value_of(item, "name"))
            )
        return _NOTHING

    def _item_done(self, event: Any) -> Sequence[ModelStreamEvent]:
        index = value_of(event, "output_index") or 0
        item = self.items[index] = value_of(event, "item")
        if value_of(item, "type") == "reasoning" and index in self.thinking:
            encrypted = value_of(item, "encrypted_content")
            if encrypted is not None:
                self.acc.thinking_part(self.thinking[index], encrypted=encrypted)
        return _NOTHING

    def _summary_part(self, event: Any) -> Sequence[ModelStreamEvent]:
        if not value_of(event, "summary_index"):
            return _NOTHING
        # Summary parts are joined by a blank line in the final part: stream the same text.
        number = self.thinking.get(value_of(event, "output_index") or 0, 0)
        return self._add(ThinkingDelta("\n\n", number))

    def _thinking_delta(self, event: Any) -> Sequence[ModelStreamEvent]:
        number = self.thinking.get(value_of(event, "output_index") or 0, 0)
        return self._add(ThinkingDelta(value_of(event, "delta") or "", number))

    def _text_delta(self, event: Any) -> Sequence[ModelStreamEvent]:
        return self._add(TextDelta(value_of(event, "delta") or ""))

    def _arguments_delta(self, event: Any) -> Sequence[ModelStreamEvent]:
        number = self.calls.get(value_of(event, "output_index") or 0)
        if number is None:
            return _NOTHING
        return self._add(ToolCallDelta(number, arguments=value_of(event, "delta") or ""))

    def _finished(self, event: Any) -> Sequence[ModelStreamEvent]:
        self.final = value_of(event, "response")
        return _NOTHING

    def response(self) -> ModelResponse:
        """The assembled response, once the stream has ended."""
        final = self.final
        output = value_of(final, "output") or [self.items[i] for i in sorted(self.items)]
        message = _message(output, self.provider, self.model) if output else self.acc.message()
        return ModelResponse(
            message=message,
            usage=read_usage(value_of(final, "usage")),
            finish_reason=_finish(final, bool(message.tool_calls)) if final is not None else None,
            model=value_of(final, "model") or self.response_model,
            request_id=self.request_id,
        )
