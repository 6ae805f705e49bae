"""Approvals: a person's yes to one tool call of one paused run.

An :class:`Approval` names the thread, the paused run (its pause id), the call id, the tool and
a hash of the call's canonical arguments. On the resume that claimed the paused run, the agent
hands one to exactly the invocation it approves; it covers no other call, so a later call that
reuses the id (models do) asks again, and a call whose name or arguments differ from what was
approved is not covered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .messages import ToolCall

__all__ = ["Approval", "arguments_digest"]


def arguments_digest(call: ToolCall) -> str:
    """SHA-256 (hex) of a call's arguments as canonical JSON (sorted keys, no spaces)."""
    if call.invalid_arguments is not None:
        text = "invalid:" + call.invalid_arguments
    else:
        text = json.dumps(
            call.arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Approval:
    """One approved tool call of one paused run, for one resume.

    Attributes:
        thread_id: the thread of the paused run (``None`` for a run without a store).
        pause_id: the paused run (see :attr:`~aiops_core.agent.PendingApproval.pause_id`).
        call_id: the approved call's id.
        tool: the approved call's tool name.
        arguments_digest: :func:`arguments_digest` of the approved call.
    """

    thread_id: str | None
    pause_id: str
    call_id: str
    tool: str
    arguments_digest: str

    @classmethod
    def of(cls, call: ToolCall, *, thread_id: str | None, pause_id: str) -> Approval:
        """The approval of ``call`` as it stands."""
        return cls(thread_id, pause_id, call.id, call.name, arguments_digest(call))

    def covers(self, call: ToolCall) -> bool:
        """Whether this is the approved call: same id, same tool, same arguments."""
        return (
            call.id == self.call_id
            and call.name == self.tool
            and arguments_digest(call) == self.arguments_digest
        )
