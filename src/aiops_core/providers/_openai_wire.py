"""The OpenAI Chat Completions wire mapping, shared by ``openai``, ``azure_openai`` and ``huggingface``.

It also holds what both transports of the ``openai`` handler share (its config, the argument
text helper), so the SDK module and the lean module import this one and not each other, and the
API choice and reasoning settings that ``openai`` and ``azure_openai`` share
(:class:`OpenAIAPIConfig`; the Responses API mapping is in :mod:`._openai_responses`).

Reasoning on Chat Completions: ``reasoning_effort`` is sent; the reasoning text that
OpenAI-compatible servers return (``reasoning_content`` or ``reasoning``: vLLM, DeepSeek, the
Hugging Face router) becomes a thinking part for display, and is never sent back (Chat
Completions has no field for it).

Requests are built as plain dicts (no per-call SDK model building); responses and stream chunks
are read by attribute, which works for the ``openai`` SDK's models and for ``huggingface_hub``'s
dataclasses alike.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

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
from ._config import SETTING_KEYS, ChatConfig, prompt_cache_field, setting_error
from .base import (
    REASONING_KEYS,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    ModelStreamEvent,
    OutputSchema,
    ResponseDone,
    StreamAccumulator,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    parse_arguments,
)

if TYPE_CHECKING:
    from ..tools import ToolDefinition

__all__ = [
    "OpenAIAPIConfig",
    "OpenAIConfig",
    "ReasoningEffort",
    "arguments_text",
    "build_request",
    "call_arguments",
    "openai_messages",
    "openai_tool_choice",
    "openai_tools",
    "prompt_cache_key",
    "read_response",
    "read_stream",
    "read_usage",
    "reasoning_text",
    "schema_name",
    "value_of",
]

_KNOWN = frozenset({"temperature", "top_p", "stop", "seed", "reasoning_effort"})
_NOT_ON_CHAT = REASONING_KEYS - {"reasoning_effort"}

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class OpenAIAPIConfig(ChatConfig):
    """The API and reasoning settings of ``openai`` and ``azure_openai``."""

    setting_keys: ClassVar[tuple[str, ...]] = (
        *SETTING_KEYS,
        "reasoning_effort",
        "reasoning_summary",
    )

    api: Literal["chat", "responses"] = Field(
        "chat",
        description='"chat": Chat Completions; "responses": the Responses API (reasoning items '
        "carried between calls)",
    )
    reasoning_effort: ReasoningEffort | None = Field(
        None, description="reasoning models: how hard to think (none ... xhigh, max)"
    )
    reasoning_summary: Literal["auto", "concise", "detailed"] | None = Field(
        None, description='api="responses": return a summary of the reasoning'
    )
    store: bool = Field(
        False,
        description='api="responses": keep responses at the provider (false: nothing is '
        "stored there; reasoning travels as encrypted content)",
    )

    @model_validator(mode="after")
    def _api_rules(self) -> OpenAIAPIConfig:
        if self.api == "responses":
            unsupported = [key for key in ("stop", "seed") if getattr(self, key) is not None]
            if unsupported:
                raise setting_error(
                    f"the Responses API has no {' or '.join(unsupported)}: remove it or use "
                    'api="chat"'
                )
            return self
        if self.reasoning_summary is not None:
            raise setting_error(
                'reasoning_summary needs api="responses" (Chat Completions has none)'
            )
        if self.store:
            raise setting_error('store applies to api="responses"')
        return self


class OpenAIConfig(OpenAIAPIConfig):
    """Config of the ``openai`` handler (both transports: the SDK and the lean one)."""

    organization: str | None = Field(None, description="OpenAI organization id")
    project: str | None = Field(None, description="OpenAI project id")
    transport: Literal["sdk", "lean"] = Field(
        "sdk",
        description='"sdk": the openai SDK; "lean": direct httpx2 requests, less client CPU',
    )
    prompt_cache: bool = prompt_cache_field()


def prompt_cache_key(request: ModelRequest, config: ChatConfig) -> str | None:
    """The ``prompt_cache_key`` of a request: one per thread, so a thread's turns reach the
    machine that holds its cached prefix; ``None`` outside a thread or with ``prompt_cache``
    off (a config without the switch, Azure's, never sends one).

    The thread id is hashed: it may name a user, and the provider needs only a stable value.
    """
    if not getattr(config, "prompt_cache", False):
        return None
    context = request.context
    thread_id = context.thread_id if context is not None else None
    if not thread_id:
        return None
    return "aiops-" + hashlib.sha256(thread_id.encode()).hexdigest()[:32]


_NAME = re.compile(r"[^A-Za-z0-9_-]")


def schema_name(schema: OutputSchema) -> str:
    """The schema's name made safe for providers (letters, digits, ``_``, ``-``; 64 at most)."""
    return _NAME.sub("_", schema.name)[:64] or "output"


def _image_url(part: ImagePart) -> str:
    return part.url or f"data:{part.media_type};base64,{part.data}"


def _user_content(content: str | Sequence[Any]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": _image_url(part)}})
        elif isinstance(part, DataPart):
            parts.append({"type": "text", "text": json.dumps(part.data, default=str)})
    return parts


def call_arguments(call: ToolCall) -> str:
    """A tool call's arguments as the model wrote them (JSON text)."""
    if call.invalid_arguments is not None:
        return call.invalid_arguments  # what the model wrote, so its correction makes sense
    return json.dumps(call.arguments)


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call_arguments(call)},
    }


def _openai_message(message: Message) -> dict[str, Any]:
    """One message in Chat Completions form."""
    match message:
        case SystemMessage():
            return {"role": "system", "content": message.content}
        case UserMessage():
            return {"role": "user", "content": _user_content(message.content)}
        case AssistantMessage():
            item: dict[str, Any] = {"role": "assistant", "content": message.content or None}
            if message.tool_calls:
                item["tool_calls"] = [_tool_call(call) for call in message.tool_calls]
            return item
        case ToolResultMessage():
            return {
                "role": "tool",
                "tool_call_id": message.tool_call_id,
                "content": content_text(message.content),
            }


def openai_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Messages in Chat Completions form."""
    return [_openai_message(message) for message in messages]


def openai_tools(tools: Sequence[ToolDefinition]) -> list[dict[str, Any]]:
    """Tool definitions in Chat Completions form."""
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


def openai_tool_choice(choice: str) -> str | dict[str, Any]:
    """``auto`` / ``none`` / ``required`` as they are; a tool name forces that tool."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def build_request(
    request: ModelRequest, settings: ModelSettings, *, max_tokens_key: str = "max_tokens"
) -> dict[str, Any]:
    """Keyword arguments for a Chat Completions call (without ``model`` and ``stream``).

    Settings the SDK has no parameter for go into ``extra_body``.
    """
    kwargs: dict[str, Any] = {"messages": openai_messages(request.messages)}
    has_tools = bool(request.tools)
    if has_tools:
        kwargs["tools"] = openai_tools(request.tools)
    extra: dict[str, Any] = {}
    for key, value in settings.items():
        if key in _KNOWN:
            kwargs[key] = value
        elif key in _NOT_ON_CHAT:
            continue
        elif key == "max_tokens":
            kwargs[max_tokens_key] = value
        elif key == "tool_choice":
            if has_tools:  # the API rejects tool_choice without tools
                kwargs["tool_choice"] = openai_tool_choice(str(value))
        elif key == "parallel_tool_calls":
            if has_tools:
                kwargs["parallel_tool_calls"] = value
        else:
            extra[key] = value
    if extra:
        kwargs["extra_body"] = extra
    schema = request.output_schema
    if schema is not None:
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": schema_name(schema),
                "schema": schema.json_schema,
                "strict": False,
            },
        }
    return kwargs


def value_of(obj: Any, key: str) -> Any:
    """``obj[key]`` of a dict, ``obj.key`` of an object (SDK models, dataclasses); else ``None``."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def read_usage(usage: Any) -> Usage:
    """Token counts of a Chat Completions ``usage`` (an SDK object or a dict)."""
    if usage is None:
        return Usage(requests=1)
    # huggingface_hub keeps unknown fields as plain dicts, hence value_of() for the details
    cached = value_of(value_of(usage, "prompt_tokens_details"), "cached_tokens")
    reasoning = value_of(value_of(usage, "completion_tokens_details"), "reasoning_tokens")
    return Usage(
        input_tokens=value_of(usage, "prompt_tokens") or 0,
        output_tokens=value_of(usage, "completion_tokens") or 0,
        cached_tokens=cached or 0,
        reasoning_tokens=reasoning or 0,
        requests=1,
    )


def reasoning_text(message: Any) -> str | None:
    """The reasoning an OpenAI-compatible server sent with a message or a delta."""
    return value_of(message, "reasoning_content") or value_of(message, "reasoning") or None


def arguments_text(arguments: Any) -> str:
    """A tool call's streamed or returned arguments as JSON text (some servers send objects)."""
    if arguments is None:
        return ""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments)


def read_response(
    response: Any, request_id: str | None, *, provider: str = "openai", model: str | None = None
) -> ModelResponse:
    """A :class:`ModelResponse` from a Chat Completions response object.

    Args:
        response: the SDK's response object.
        request_id: the request id to report.
        provider: handler name recorded on a thinking part.
        model: model name recorded on a thinking part.
    """
    choice = response.choices[0]
    message = choice.message
    calls = [
        parse_arguments(call.id, call.function.name, call.function.arguments)
        for call in message.tool_calls or ()
    ]
    reasoning = reasoning_text(message)
    thinking = [ThinkingPart(text=reasoning, provider=provider, model=model)] if reasoning else []
    return ModelResponse(
        message=AssistantMessage(
            content=message.content or "", tool_calls=calls, thinking=thinking
        ),
        usage=read_usage(response.usage),
        finish_reason=choice.finish_reason,
        model=response.model,
        request_id=request_id,
    )


async def read_stream(
    chunks: AsyncIterable[Any],
    request_id: str | None,
    *,
    provider: str = "openai",
    model_name: str | None = None,
) -> AsyncIterator[ModelStreamEvent]:
    """Stream events from Chat Completions chunks, ending with :class:`ResponseDone`."""
    acc = StreamAccumulator(provider, model_name)
    usage: Usage | None = None
    finish: str | None = None
    model: str | None = None
    async for chunk in chunks:
        model = chunk.model or model
        if chunk.usage is not None:
            usage = read_usage(chunk.usage)
        for choice in chunk.choices or ():
            delta = choice.delta
            if delta is not None:
                reasoning = reasoning_text(delta)
                if reasoning:
                    thinking_event = ThinkingDelta(reasoning)
                    acc.add(thinking_event)
                    yield thinking_event
                if delta.content:
                    text_event = TextDelta(delta.content)
                    acc.add(text_event)
                    yield text_event
                for call in delta.tool_calls or ():
                    fn = call.function
                    call_event = ToolCallDelta(
                        call.index or 0,
                        call.id or None,
                        (fn.name or None) if fn is not None else None,
                        arguments_text(fn.arguments) if fn is not None else "",
                    )
                    acc.add(call_event)
                    yield call_event
            if choice.finish_reason:
                finish = choice.finish_reason
    yield ResponseDone(
        acc.response(
            usage=usage or Usage(requests=1),
            finish_reason=finish,
            model=model,
            request_id=request_id,
        )
    )
