"""Which paused run a resume continues, and whether its decisions and calls may be trusted.

A paused run is stored in its thread's metadata (``pending_approval``). With a store, that stored
state is the authority: a ``PendingApproval`` or ``pause_id`` the caller passes only names the
pause the decisions are for, and must match it. The calls that will run are checked against what
the model asked for (the turn's last assistant message) and against the digests taken when the
run paused, so a pending state whose tool names or arguments were changed is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..approval import arguments_digest
from ..errors import ApprovalStateError
from ..messages import AssistantMessage
from .result import PendingApproval

__all__ = ["check_answer", "check_calls", "check_decisions", "choose_pending"]


def choose_pending(
    thread_id: str | None,
    stored: Mapping[str, Any] | None,
    given: PendingApproval | None,
    pause_id: str | None,
    *,
    from_store: bool,
) -> PendingApproval:
    """The paused run to continue (see the module docstring)."""
    if from_store:
        if stored is None:
            raise ApprovalStateError(
                f"Nothing awaits approval in thread {thread_id!r}: it was resumed already, "
                "or never paused"
            )
        pending = PendingApproval.from_dict(dict(stored))
        if given is not None and not given.same_pause(pending):
            raise ApprovalStateError(
                f"The decisions are for a paused run that thread {thread_id!r} no longer holds "
                "(or whose calls changed); reload the thread and decide again"
            )
    elif given is not None:
        pending = given
    else:
        raise ApprovalStateError(
            f"Nothing awaits approval in thread {thread_id!r}; "
            "pass the thread_id of a paused run or its PendingApproval"
        )
    if pause_id is not None and pause_id != pending.pause_id:
        raise ApprovalStateError(
            f"The decisions are for paused run {pause_id!r}, but thread {thread_id!r} awaits "
            "another one; reload the thread and decide again"
        )
    check_calls(pending)
    return pending


def check_calls(pending: PendingApproval) -> None:
    """Refuse pending calls that are not the model's calls as they were when the run paused."""
    last = next(
        (m for m in reversed(pending.messages) if isinstance(m, AssistantMessage) and m.tool_calls),
        None,
    )
    asked = {c.id: c for c in last.tool_calls} if last is not None else {}
    for call in pending.calls:
        same = asked.get(call.id) == call
        if same and pending.pause_id:
            same = pending.digests.get(call.id) == arguments_digest(call)
        if not same:
            raise ApprovalStateError(
                f"Pending call {call.id!r} ({call.name!r}) is not the call the model made when "
                "the run paused (its tool or arguments changed): refusing to run it"
            )


def check_decisions(
    pending: PendingApproval,
    approve: set[str],
    reject: set[str],
    answers: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Exactly one decision for each pending call, and none for anything else.

    A decision is an approval, a rejection, or (for a call whose server asked a question) an
    answer; an answer must be ``accept``, ``decline`` or ``cancel`` and fit the question's form.
    """
    answered = set(answers or {})
    ids = {c.id for c in pending.calls}
    decided = approve | reject | answered
    unknown = decided - ids
    overlap = (approve & reject) | (answered & (approve | reject))
    if unknown or overlap or decided != ids:
        raise ApprovalStateError(
            "Give exactly one decision (approve, reject or an answer) for each pending call: "
            f"{sorted(ids)}" + (f"; unknown ids {sorted(unknown)}" if unknown else "")
        )
    for call_id, answer in (answers or {}).items():
        question = pending.questions.get(call_id)
        if question is None:
            raise ApprovalStateError(
                f"Pending call {call_id!r} asked no question: approve or reject it instead"
            )
        check_answer(question, answer)


def check_answer(question: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
    """Refuse an answer that is not accept / decline / cancel, or does not fit the form."""
    from ..mcp.elicitation import apply_defaults, validate_content

    action = answer.get("action")
    if action not in ("accept", "decline", "cancel"):
        raise ApprovalStateError(
            f"An answer's action is 'accept', 'decline' or 'cancel', not {action!r}"
        )
    if action == "accept" and question.get("mode", "form") == "form":
        schema = question.get("schema") or {}
        validate_content(schema, apply_defaults(schema, answer.get("content") or {}))
