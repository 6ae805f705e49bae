"""The context budget: a request that would not fit the model's context window is never sent.

Before each model request the agent estimates its input tokens and compares them with the
model's context window less the output reserve (both from the model catalog, overridable with
``Agent(context_window=..., max_output=...)``). A model the catalog has no window for is left
alone. When the request would not fit, ``Agent(context_policy=...)`` decides:

- ``"trim"`` (the default): the oldest whole turns of the history are left out of this request
  until it fits. A turn starts at a user message, so a tool call never loses its result; the
  system prompt and the current turn are always sent. The stored thread is not changed. The cut
  moves in steps (the first user message past a multiple of :data:`TRIM_STEP` messages of the
  thread), so consecutive turns send the same prefix and the prompt cache keeps hitting.
- ``"refuse"``: :class:`~aiops_core.errors.ContextLimitError` before anything is sent.
- ``"summarize"``: the oldest whole turns are replaced by a summary a model writes (see
  :mod:`aiops_core.agent._summary`); :meth:`ContextBudget.summary_cut` chooses where.

Calibration of the estimate: providers' tokenizers give about 3.5-4.5 characters per token for
English prose, code and JSON (cl100k/o200k and Claude's tokenizer alike; dense JSON and
non-Latin text run lower). The estimate counts the text the model reads (message text, tool-call
arguments, the tools' names, descriptions and JSON schemas) at 4 characters per token, adds 4
tokens per message and 8 per tool for the wire framing, then adds a 15% safety margin, so a
request the estimate lets through stays under the window even for text that tokenizes at about
3.5 characters per token.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import ContextLimitError
from ..messages import Message, UserMessage
from ..middleware._text import message_text
from ..tools import ToolDefinition

__all__ = [
    "CHARS_PER_TOKEN",
    "CONTEXT_POLICIES",
    "SAFETY_MARGIN",
    "TRIM_STEP",
    "ContextBudget",
    "ContextPolicy",
    "estimate_tokens",
]

ContextPolicy = Literal["trim", "refuse", "summarize"]
CONTEXT_POLICIES: tuple[ContextPolicy, ...] = ("trim", "refuse", "summarize")

CHARS_PER_TOKEN = 4
SAFETY_MARGIN = 1.15
TRIM_STEP = 8
"""Trimming cuts at the first user message past a multiple of this many thread messages."""
_PER_MESSAGE = 4
_PER_TOOL = 8


def _message_tokens(message: Message) -> float:
    return len(message_text(message)) / CHARS_PER_TOKEN + _PER_MESSAGE


def _tool_tokens(tools: Sequence[ToolDefinition]) -> float:
    chars = sum(len(t.name) + len(t.description) + len(json.dumps(t.parameters)) for t in tools)
    return chars / CHARS_PER_TOKEN + _PER_TOOL * len(tools)


def _cuts(history: Sequence[Message], first: int) -> list[int]:
    """Where trimming may start the history: ascending, ending with ``len(history)`` (none)."""
    cuts: list[int] = []
    target = TRIM_STEP - first % TRIM_STEP  # the next multiple, relative to history[0]
    index = 0
    while target < len(history):
        index = max(index, target)
        while index < len(history) and not isinstance(history[index], UserMessage):
            index += 1
        if index < len(history) and (not cuts or cuts[-1] != index):
            cuts.append(index)
        target += TRIM_STEP
    cuts.append(len(history))
    return cuts


def estimate_tokens(messages: Sequence[Message], tools: Sequence[ToolDefinition] = ()) -> int:
    """The calibrated input-token estimate of a request (see the module docstring)."""
    raw = sum(_message_tokens(m) for m in messages) + _tool_tokens(tools)
    return int(raw * SAFETY_MARGIN) + 1


@dataclass(frozen=True, slots=True)
class ContextBudget:
    """The input tokens one model's requests may use, and what to do past them.

    Attributes:
        model: the model's label, for messages.
        window: the model's context window (input and output tokens together).
        reserve: output tokens kept free (the request's ``max_tokens``, else the model's
            output limit, else nothing).
        policy: ``"trim"``, ``"refuse"`` or ``"summarize"``.
    """

    model: str
    window: int
    reserve: int
    policy: ContextPolicy

    @property
    def limit(self) -> int:
        """Input tokens a request may use."""
        return max(self.window - self.reserve, 0)

    def fit(
        self,
        prefix: Sequence[Message],
        history: Sequence[Message],
        current: Sequence[Message],
        tools: Sequence[ToolDefinition],
        sizes: dict[int, float] | None = None,
        first: int = 0,
    ) -> list[Message]:
        """The messages to send: all of them when they fit, else as the policy says.

        ``sizes`` caches each message's estimate by ``id()`` across the requests of one run
        (whose messages stay alive and unchanged), so a step pays only for its new messages.
        ``first`` is the position of ``history[0]`` in the thread (a partial load starts late).

        Raises:
            ContextLimitError: with ``"refuse"``, or when the system prompt, the tools and the
                current turn alone do not fit.
        """
        limit = self.limit
        size = _sizer(sizes)
        fixed = sum(size(m) for m in (*prefix, *current)) + _tool_tokens(tools)
        history_sizes = [size(m) for m in history]
        total = fixed + sum(history_sizes)
        if int(total * SAFETY_MARGIN) + 1 <= limit:
            return [*prefix, *history, *current]
        if self.policy == "refuse":
            raise self._error(int(total * SAFETY_MARGIN) + 1, "the conversation")
        # Drop whole turns from the start, cutting only where a user message begins a turn, at
        # the first one past a multiple of TRIM_STEP (counted from the thread's start): the cut
        # then stays put for several turns and the provider's prompt cache keeps hitting.
        after = 0.0
        suffix = [0.0] * (len(history) + 1)
        for index in range(len(history) - 1, -1, -1):
            after += history_sizes[index]
            suffix[index] = after
        for cut in _cuts(history, first):
            if int((fixed + suffix[cut]) * SAFETY_MARGIN) + 1 <= limit:
                return [*prefix, *history[cut:], *current]
        raise self._error(int(fixed * SAFETY_MARGIN) + 1, "the system prompt, tools and this turn")

    def summary_cut(
        self,
        prefix: Sequence[Message],
        history: Sequence[Message],
        current: Sequence[Message],
        tools: Sequence[ToolDefinition],
        summary_tokens: int,
        sizes: dict[int, float] | None = None,
    ) -> int | None:
        """Where the history kept after a summary starts, or ``None`` when everything fits.

        ``history[:cut]`` is to be summarised (in at most ``summary_tokens``). The kept part
        starts on a user message (whole turns: no tool call loses its result) and is the longest
        that fits in half the room the system prompt, tools, this turn and the summary leave, so
        the next turns fit too before another summary is needed; when not even the latest turn
        fits in half, the longest that fits at all (possibly none: all is summarised).

        Raises:
            ContextLimitError: when the summary, the system prompt, the tools and the current
                turn alone do not fit.
        """
        size = _sizer(sizes)
        fixed = sum(size(m) for m in (*prefix, *current)) + _tool_tokens(tools)
        history_sizes = [size(m) for m in history]
        if int((fixed + sum(history_sizes)) * SAFETY_MARGIN) + 1 <= self.limit:
            return None
        room = self.limit / SAFETY_MARGIN - 1 - fixed - summary_tokens
        if room < 0:
            estimate = int((fixed + summary_tokens) * SAFETY_MARGIN) + 1
            raise self._error(estimate, "a summary, the system prompt, tools and this turn")
        after = 0.0
        kept: list[tuple[int, float]] = [(len(history), 0.0)]  # (cut, tokens kept), newest first
        for index in range(len(history) - 1, 0, -1):
            after += history_sizes[index]
            if isinstance(history[index], UserMessage):
                kept.append((index, after))
        fitting = [cut for cut, tokens in kept if tokens <= room]
        halves = [cut for cut, tokens in kept[1:] if tokens <= room / 2]
        return min(halves or fitting)

    def _error(self, estimate: int, what: str) -> ContextLimitError:
        advice = (
            "or set context_window/max_output if the catalog is wrong"
            if self.policy == "summarize"
            else 'use context_policy="trim" or "summarize", or set context_window/max_output '
            "if the catalog is wrong"
        )
        return ContextLimitError(
            f"The request to {self.model!r} would need about {estimate:,} input tokens "
            f"({what}), more than the {self.limit:,} its context window of {self.window:,} "
            f"leaves after {self.reserve:,} output tokens. Nothing was sent. Shorten the input "
            f"or the tool results (max_tool_result_chars), {advice}.",
            estimate=estimate,
            limit=self.limit,
        )

    def refusal(self, messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> None:
        """Raise :class:`ContextLimitError` unless the request fits (the summary's last check)."""
        estimate = estimate_tokens(messages, tools)
        if estimate > self.limit:
            raise self._error(estimate, "the summary, the system prompt, tools and this turn")


def _sizer(sizes: dict[int, float] | None) -> Callable[[Message], float]:
    """A message's token estimate, cached by ``id()`` in ``sizes`` (see :meth:`ContextBudget.fit`)."""
    cache: dict[int, float] = {} if sizes is None else sizes

    def size(message: Message) -> float:
        known = cache.get(id(message))
        if known is None:
            known = cache[id(message)] = _message_tokens(message)
        return known

    return size
