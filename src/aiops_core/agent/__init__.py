"""The agent loop, its events and results."""

from __future__ import annotations

from .agent import Agent
from .events import (
    AgentEvent,
    FinalResult,
    PartialOutput,
    RunError,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from .result import PendingApproval, RunResult

__all__ = [
    "Agent",
    "AgentEvent",
    "FinalResult",
    "PartialOutput",
    "PendingApproval",
    "RunError",
    "RunResult",
    "TextDelta",
    "ThinkingDelta",
    "ToolCallFinished",
    "ToolCallStarted",
]
