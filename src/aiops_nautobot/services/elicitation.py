"""Questions MCP servers ask the user mid-call (elicitation), as the chat API shows and answers them.

A server's question pauses the turn like a tool approval (the app's MCP pools use
``elicitation="pause"``). The paused answer shows each question under its pending call
(:func:`question_data`); ``chat/approve/`` takes the person's answers, checked here against the
requested schema before the turn resumes (:func:`parse_answers`), so a wrong field is a 400 that
names it rather than a failed resume.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiops_core.errors import UserError

from .errors import ChatInputError

__all__ = ["ACTIONS", "parse_answers", "pending_questions", "question_data"]

ACTIONS = ("accept", "decline", "cancel")


def question_data(question: Mapping[str, Any]) -> dict[str, Any]:
    """The API form of a paused call's question: ``{message, requested_schema, server, ...}``."""
    return {
        "message": question.get("message", ""),
        "requested_schema": question.get("schema") or {},
        "server": question.get("server", ""),
        "mode": question.get("mode", "form"),
        "url": question.get("url"),
    }


def pending_questions(thread_id: str, pause_id: str) -> dict[str, dict[str, Any]]:
    """Call id -> question of the thread's paused run ``pause_id`` (empty if it holds another).

    A thread that no longer holds that pause gets no answers checked here: the engine refuses
    the resume itself (409).
    """
    from aiops_core.agent import PendingApproval

    from .stores import with_store

    async def load(store: Any) -> Any:
        return await store.load(thread_id)

    thread = with_store(load)
    stored = thread.info.metadata.get("pending_approval") if thread is not None else None
    if not isinstance(stored, Mapping):
        return {}
    pending = PendingApproval.from_dict(dict(stored))
    if pending.pause_id != pause_id:
        return {}
    return dict(pending.questions)


def parse_answers(value: Any, questions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Validate the ``answers`` of an approval request against the calls' questions.

    ``value`` is ``{call_id: {"action": "accept"|"decline"|"cancel", "content": {...}}}``. An
    accepted form gets the defaults its schema declares and must then fit the schema.

    Raises:
        ChatInputError: the answers are malformed, answer a call that asked nothing, or do not
            fit the form (the message names the call and the field).
    """
    from aiops_core.mcp import apply_defaults, validate_content

    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ChatInputError(
            '\'answers\' must be an object: {call_id: {"action": "accept", "content": {...}}}'
        )
    answers: dict[str, Any] = {}
    for call_id, answer in value.items():
        where = f"answers.{call_id}"
        if not isinstance(answer, Mapping):
            raise ChatInputError(f"'{where}' must be an object with 'action' and 'content'")
        action = answer.get("action")
        if action not in ACTIONS:
            raise ChatInputError(f"'{where}.action' must be one of {', '.join(ACTIONS)}")
        content = answer.get("content")
        if content is not None and not isinstance(content, Mapping):
            raise ChatInputError(f"'{where}.content' must be an object of the form's fields")
        question = questions.get(call_id)
        if question is None:
            raise ChatInputError(
                f"'{where}': call {call_id!r} asked no question in this paused turn; "
                "approve or reject it instead"
            )
        if action == "accept" and question.get("mode", "form") == "form":
            schema = question.get("schema") or {}
            content = apply_defaults(schema, dict(content or {}))
            try:
                validate_content(schema, content)
            except UserError as err:
                detail = str(err).removeprefix("Elicitation answer: ")
                raise ChatInputError(f"'{where}.content': {detail}") from None
        answers[call_id] = {"action": action, "content": dict(content) if content else None}
    return answers
