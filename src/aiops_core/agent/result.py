"""What a run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..approval import arguments_digest
from ..messages import AssistantMessage, Message, ToolCall, Usage, dump_message, load_message

__all__ = ["PendingApproval", "RunResult"]


@dataclass(slots=True)
class PendingApproval:
    """A run paused until a person approves or rejects some tool calls, or answers a question.

    It holds the turn so far (not yet in the thread's history) and the calls awaiting a
    decision. It serialises to plain JSON (:meth:`to_dict`) so stores can keep it. A call whose
    MCP server asked the person something (elicitation) has its question in ``questions``; it is
    resumed with an answer instead of an approval.

    Attributes:
        calls: the calls awaiting a decision.
        messages: the turn so far.
        reasons: call id -> why it needs approval.
        steps: model calls made so far.
        usage: usage so far.
        pause_id: this paused run's id: a resume may name it (``resume(pause_id=...)``) so that
            its decisions apply to this pause and no other.
        thread_id: the thread it belongs to, if any.
        digests: call id -> :func:`~aiops_core.approval.arguments_digest` of the call as the
            model made it; a call whose name or arguments changed since is refused.
        questions: call id -> the question a server asked during the call (an
            :class:`~aiops_core.mcp.ElicitationRequest` as a dict, with its ``key``).
        answers: question ``key`` -> the answers given earlier in this turn (a call that asks
            several questions gets them again when it runs again).
    """

    calls: list[ToolCall]
    messages: list[Message]
    reasons: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    usage: Usage = field(default_factory=Usage)
    pause_id: str = ""
    thread_id: str | None = None
    digests: dict[str, str] = field(default_factory=dict)
    questions: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    claimed: bool = field(default=False, repr=False, compare=False)
    """Set when a resume without a store took this object (it is then used up)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": [c.model_dump(mode="json") for c in self.calls],
            "messages": [dump_message(m) for m in self.messages],
            "reasons": dict(self.reasons),
            "steps": self.steps,
            "usage": self.usage.model_dump(),
            "pause_id": self.pause_id,
            "thread_id": self.thread_id,
            "digests": dict(self.digests),
            "questions": dict(self.questions),
            "answers": dict(self.answers),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingApproval:
        return cls(
            calls=[ToolCall.model_validate(c) for c in data["calls"]],
            messages=[load_message(m) for m in data["messages"]],
            reasons=dict(data.get("reasons", {})),
            steps=int(data.get("steps", 0)),
            usage=Usage.model_validate(data.get("usage", {})),
            pause_id=str(data.get("pause_id", "")),
            thread_id=data.get("thread_id"),
            digests=dict(data.get("digests", {})),
            questions=dict(data.get("questions", {})),
            answers=dict(data.get("answers", {})),
        )

    def same_pause(self, other: PendingApproval) -> bool:
        """Whether ``other`` is this pause, with the same calls (ids, tools, arguments)."""

        def calls(pending: PendingApproval) -> list[tuple[str, str, str]]:
            return [(c.id, c.name, arguments_digest(c)) for c in pending.calls]

        return self.pause_id == other.pause_id and calls(self) == calls(other)


@dataclass(slots=True)
class RunResult:
    """The outcome of one run.

    Attributes:
        output: the final text, or a validated ``output_type`` instance; ``None`` while pending.
        messages: the messages this run added (the user message first); see also
            :meth:`new_messages` and :meth:`all_messages`.
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
    history: list[Message] = field(default_factory=list, repr=False)
    """The conversation before this run (``message_history``, or what the run loaded of the
    stored thread: with ``history_limit`` or ``context_policy="summarize"`` only its tail)."""

    def new_messages(self) -> list[Message]:
        """The messages this run added, the user's prompt first."""
        return list(self.messages)

    def all_messages(self) -> list[Message]:
        """The whole conversation: the history the run started from, then its new messages.

        Pass it as the next run's ``message_history`` to continue without a store (the system
        prompt is not in it: the agent adds its own to every request).
        """
        return [*self.history, *self.messages]

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Every tool call the model made in this run."""
        return [c for m in self.messages if isinstance(m, AssistantMessage) for c in m.tool_calls]
