"""What a run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..messages import AssistantMessage, Message, ToolCall, Usage, dump_message, load_message

__all__ = ["PendingApproval", "RunResult"]


@dataclass(slots=True)
class PendingApproval:
    """A run paused until a person approves or rejects some tool calls.

    It holds the turn so far (not yet in the thread's history) and the calls awaiting a
    decision. It serialises to plain JSON (:meth:`to_dict`) so stores can keep it.
    """

    calls: list[ToolCall]
    messages: list[Message]
    reasons: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    usage: Usage = field(default_factory=Usage)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": [c.model_dump(mode="json") for c in self.calls],
            "messages": [dump_message(m) for m in self.messages],
            "reasons": dict(self.reasons),
            "steps": self.steps,
            "usage": self.usage.model_dump(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingApproval:
        return cls(
            calls=[ToolCall.model_validate(c) for c in data["calls"]],
            messages=[load_message(m) for m in data["messages"]],
            reasons=dict(data.get("reasons", {})),
            steps=int(data.get("steps", 0)),
            usage=Usage.model_validate(data.get("usage", {})),
        )


@dataclass(slots=True)
class RunResult:
    """The outcome of one run.

    Attributes:
        output: the final text, or a validated ``output_type`` instance; ``None`` while pending.
        messages: the messages this run added (the user message first).
        usage: tokens and requests of this run.
        steps: model calls made.
        status: ``"completed"`` or ``"pending_approval"``.
        pending: what awaits approval when ``status == "pending_approval"``.
        warnings: operator-facing notes (skipped middleware, store degraded).
    """

    output: Any
    messages: list[Message]
    usage: Usage
    steps: int
    thread_id: str | None = None
    run_id: str = ""
    model: str = ""
    status: Literal["completed", "pending_approval"] = "completed"
    pending: PendingApproval | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Every tool call the model made in this run."""
        return [c for m in self.messages if isinstance(m, AssistantMessage) for c in m.tool_calls]
