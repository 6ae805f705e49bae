"""Typed events yielded by :meth:`Agent.stream`.

Order within a run: per model step, the model's ``ThinkingDelta`` and ``TextDelta`` events as
they arrive (thinking usually first; show it apart from the answer, dimmed or collapsed, or not
at all), then for a step with tool calls one ``ToolCallStarted`` per call (call order) followed
by one ``ToolCallFinished`` per call (call order); finally exactly one ``FinalResult`` or one
``RunError``. With an ``output_type``, a ``PartialOutput`` follows each ``TextDelta`` after which
the answer so far validates as a (partial) output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..messages import ToolCall, ToolResultMessage
from ..providers.base import TextDelta, ThinkingDelta

if TYPE_CHECKING:
    from .result import RunResult

__all__ = [
    "AgentEvent",
    "FinalResult",
    "PartialOutput",
    "RunError",
    "TextDelta",
    "ThinkingDelta",
    "ToolCallFinished",
    "ToolCallStarted",
]


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The model asked for a tool call and it is about to run."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """A tool call finished (``result.is_error`` tells whether it failed)."""

    call: ToolCall
    result: ToolResultMessage


@dataclass(frozen=True, slots=True)
class PartialOutput:
    """The structured output streamed so far, validated (see :mod:`aiops_core.agent._partial`).

    ``output`` is an instance of the output type; its last string field may be unfinished and
    fields still to come hold their defaults. The run's final ``result.output`` is complete.
    """

    output: Any


@dataclass(frozen=True, slots=True)
class FinalResult:
    """The run finished (completed, or paused for approval)."""

    result: RunResult


@dataclass(frozen=True, slots=True)
class RunError:
    """The run failed; the exception is raised right after this event."""

    error: BaseException


AgentEvent = (
    TextDelta
    | ThinkingDelta
    | PartialOutput
    | ToolCallStarted
    | ToolCallFinished
    | FinalResult
    | RunError
)
