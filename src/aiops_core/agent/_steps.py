"""The steps of a run (see :mod:`aiops_core.agent._run`): each step returns the next one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..messages import AssistantMessage, ToolResultMessage
from .result import RunResult

__all__ = ["REQUEST", "Answer", "CallTools", "End", "Request", "Step"]


@dataclass(slots=True)
class Request:
    """Ask the model for its next message.

    ``results`` are the tool results just added to the turn (the run's events report them).
    """

    results: Sequence[ToolResultMessage] = ()


@dataclass(slots=True)
class CallTools:
    """Run the tool calls of the model's message."""

    message: AssistantMessage


@dataclass(slots=True)
class Answer:
    """Turn the model's final message into the output, then save and finish."""

    message: AssistantMessage


@dataclass(slots=True)
class End:
    """The run is over (completed or paused)."""

    result: RunResult


Step = Request | CallTools | Answer | End
REQUEST = Request()
"""A request after no tool results (the first one, or after an output retry)."""
