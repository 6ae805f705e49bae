"""The ChatModel protocol and the request, response and stream-event types every provider speaks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, runtime_checkable

from ..messages import AssistantMessage, Message, ThinkingPart, ToolCall, Usage

if TYPE_CHECKING:
    from ..context import RunContext
    from ..tools import ToolDefinition

__all__ = [
    "REASONING_KEYS",
    "ChatModel",
    "ModelRequest",
    "ModelResponse",
    "ModelSettings",
    "ModelStreamEvent",
    "OutputSchema",
    "ResponseDone",
    "StreamAccumulator",
    "TextDelta",
    "ThinkingDelta",
    "ToolCallDelta",
    "parse_arguments",
    "response_events",
]


class ModelSettings(TypedDict, total=False):
    """Per-request model parameters; providers map the ones they support.

    The reasoning keys belong to the handlers that have them (each validates its own config):
    ``thinking``, ``effort`` and ``interleaved_thinking`` (``anthropic``), ``reasoning_effort``
    (``openai``, ``azure_openai``, ``huggingface``), ``reasoning_summary`` (``openai`` and
    ``azure_openai`` on the Responses API) and ``think`` (``ollama``).
    """

    temperature: float
    max_tokens: int
    top_p: float
    stop: list[str]
    seed: int
    tool_choice: str  # "auto" | "none" | "required" | a tool name
    parallel_tool_calls: bool
    thinking: dict[str, Any]
    effort: str
    interleaved_thinking: bool
    reasoning_effort: str
    reasoning_summary: str
    think: bool | str


REASONING_KEYS = frozenset(
    {"thinking", "effort", "interleaved_thinking", "reasoning_effort", "reasoning_summary", "think"}
)
"""The reasoning settings of all handlers: each maps its own and drops the others' (another
provider would refuse them, e.g. after a fallback between providers)."""


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """A structured-output request: the final answer must be JSON matching ``json_schema``.

    Providers use their native JSON-schema mode where they have one and a forced tool call
    otherwise; either way the response's ``message.content`` holds the JSON text.
    """

    name: str
    json_schema: dict[str, Any]


@dataclass(slots=True)
class ModelRequest:
    """One call to a model: the full message list (system first), tools and settings."""

    messages: list[Message]
    tools: Sequence[ToolDefinition] = ()
    settings: ModelSettings = field(default_factory=lambda: ModelSettings())
    output_schema: OutputSchema | None = None
    context: RunContext | None = None

    def replace(self, **changes: Any) -> ModelRequest:
        """A copy with some fields changed (middleware should not mutate a request in place)."""
        return replace(self, **changes)


@dataclass(slots=True)
class ModelResponse:
    """A complete model answer."""

    message: AssistantMessage
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None
    model: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of streamed answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """A piece of streamed thinking (reasoning) text, shown apart from the answer.

    ``index`` numbers the thinking parts of one response (0, 1, ...); the text of all deltas of
    one index is that part's ``text`` in the final message.
    """

    text: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a streamed tool call; ``index`` identifies the call within the response."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class ResponseDone:
    """The last event of every model stream, carrying the assembled response."""

    response: ModelResponse


ModelStreamEvent = TextDelta | ThinkingDelta | ToolCallDelta | ResponseDone


@runtime_checkable
class ChatModel(Protocol):
    """What the agent needs from a model.

    ``stream`` yields :class:`TextDelta`, :class:`ThinkingDelta` and :class:`ToolCallDelta` events
    and always ends with one :class:`ResponseDone`. Failures raise :class:`~aiops_core.errors.ProviderError` subclasses.
    """

    @property
    def name(self) -> str:
        """``provider:model`` label."""
        ...

    async def complete(self, request: ModelRequest) -> ModelResponse: ...

    def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]: ...

    async def aclose(self) -> None: ...


def response_events(response: ModelResponse) -> list[ModelStreamEvent]:
    """The stream events that replay a complete response (a cache hit, a replaced answer)."""
    message = response.message
    events: list[ModelStreamEvent] = [
        ThinkingDelta(part.text, index) for index, part in enumerate(message.thinking) if part.text
    ]
    if message.content:
        events.append(TextDelta(message.content))
    for index, call in enumerate(message.tool_calls):
        arguments = (
            json.dumps(call.arguments) if call.invalid_arguments is None else call.invalid_arguments
        )
        events.append(ToolCallDelta(index, call.id, call.name, arguments))
    events.append(ResponseDone(response))
    return events


def parse_arguments(
    call_id: str, name: str, raw: str | dict[str, Any] | None, *, item_id: str | None = None
) -> ToolCall:
    """Build a :class:`ToolCall` from raw arguments; malformed JSON is kept for a tool error."""
    if isinstance(raw, dict):
        return ToolCall(id=call_id, name=name, arguments=raw, item_id=item_id)
    if not raw or not raw.strip():
        return ToolCall(id=call_id, name=name, item_id=item_id)
    try:
        value = json.loads(raw)
        # A lone surrogate (``"\\ud800"``) parses but cannot be sent to any provider again.
        json.dumps(value, ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than Python's stack
        return ToolCall(id=call_id, name=name, invalid_arguments=raw, item_id=item_id)
    if not isinstance(value, dict):
        return ToolCall(id=call_id, name=name, invalid_arguments=raw, item_id=item_id)
    return ToolCall(id=call_id, name=name, arguments=value, item_id=item_id)


class StreamAccumulator:
    """Assembles stream deltas into a :class:`ModelResponse` (for handlers and middleware).

    Thinking deltas build :class:`~aiops_core.messages.ThinkingPart` objects of ``provider``
    and ``model``; what a provider sends besides the text (a signature, encrypted content, an
    item id) is added with :meth:`thinking_part`.

    Args:
        provider: the handler name recorded on thinking parts.
        model: the model name recorded on thinking parts.
    """

    __slots__ = ("_calls", "_model", "_provider", "_text", "_thinking")

    def __init__(self, provider: str = "", model: str | None = None) -> None:
        self._text: list[str] = []
        self._calls: dict[int, list[Any]] = {}
        self._thinking: dict[int, tuple[list[str], dict[str, Any]]] = {}
        self._provider = provider
        self._model = model

    def add(self, event: TextDelta | ThinkingDelta | ToolCallDelta) -> None:
        if isinstance(event, TextDelta):
            self._text.append(event.text)
            return
        if isinstance(event, ThinkingDelta):
            self._thinking.setdefault(event.index, ([], {}))[0].append(event.text)
            return
        slot = self._calls.setdefault(event.index, [None, None, []])
        if event.id:
            slot[0] = event.id
        if event.name:
            slot[1] = event.name
        if event.arguments:
            slot[2].append(event.arguments)

    def thinking_part(self, index: int, **fields: Any) -> None:
        """Set fields of thinking part ``index`` besides its text (``signature``, ``encrypted``,
        ``redacted``, ``id``); the part exists from then on even without any text."""
        self._thinking.setdefault(index, ([], {}))[1].update(fields)

    @property
    def text(self) -> str:
        return "".join(self._text)

    def thinking(self) -> list[ThinkingPart]:
        """The thinking parts so far, in index order."""
        return [
            ThinkingPart(text="".join(parts), provider=self._provider, model=self._model, **fields)
            for _, (parts, fields) in sorted(self._thinking.items())
        ]

    def message(self) -> AssistantMessage:
        calls = [
            parse_arguments(cid or f"call_{index}", name or "", "".join(parts))
            for index, (cid, name, parts) in sorted(self._calls.items())
        ]
        if not self._thinking:
            return AssistantMessage(content=self.text, tool_calls=calls)
        return AssistantMessage(content=self.text, tool_calls=calls, thinking=self.thinking())

    def response(self, **kwargs: Any) -> ModelResponse:
        return ModelResponse(message=self.message(), **kwargs)
