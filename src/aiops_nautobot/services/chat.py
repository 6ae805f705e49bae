"""One chat turn for a Nautobot user: rows → agent → answer, and the ``Conversation`` record.

The view calls :func:`prepare_chat` (validation, ownership, configuration: all sync ORM work), then
:func:`run_chat` or :func:`stream_chat`, which run the agent on the process's engine loop and
record the conversation afterwards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiops_core.errors import ThreadAccessError

from ..settings import get_settings
from ..tenancy import chat_tenant
from .agent_factory import AgentPlan, open_agent, plan_agent
from .elicitation import parse_answers, pending_questions, question_data
from .engine_loop import EngineLoop, get_engine_loop
from .errors import ChatInputError
from .nautobot_tools import nautobot_tools
from .object_context import with_object_context
from .usage import budget_fields

__all__ = [
    "MAX_MESSAGE_CHARS",
    "ChatInputError",
    "PreparedChat",
    "prepare_chat",
    "prepare_resume",
    "reply_data",
    "run_chat",
    "run_resume",
    "stream_chat",
]

MAX_MESSAGE_CHARS = 32_000
MAX_RESULT_CHARS = 4_000
_THREAD_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


@dataclass(frozen=True, slots=True)
class PreparedChat:
    """A validated chat turn, ready to run."""

    user: Any
    message: str
    thread_id: str
    plan: AgentPlan
    timeout: float
    new_thread: bool
    approve: tuple[str, ...] = ()
    reject: tuple[str, ...] = ()
    pause_id: str | None = None
    """The paused run the decisions are for (from the paused answer)."""
    answers: dict[str, Any] | None = None
    """Call id -> the person's answer to the question its MCP server asked (elicitation)."""
    conversation: Any = field(default=None, repr=False, compare=False)
    """The thread's ``Conversation`` row read while preparing (``None``: a new thread), so that
    recording the turn does not read it again."""


def prepare_chat(
    user: Any,
    message: Any,
    *,
    thread_id: Any = None,
    model: Any = None,
    user_token: str | None = None,
    context: Any = None,
    tenant: Any = None,
) -> PreparedChat:
    """Validate one chat request and read its configuration (sync).

    ``context`` (``{"object": "app_label.model:<uuid>"}``) adds an object the user may view to
    the turn's system prompt (see :mod:`.object_context`). ``tenant`` (a tenant's id or name,
    one the user may view) is the new thread's tenant; a thread keeps the tenant of its first
    turn (see :mod:`aiops_nautobot.tenancy`).

    Raises:
        ChatInputError: bad message, thread id, model selector type or tenant, or a tenant other
            than the thread's.
        ThreadAccessError: the thread belongs to another user (the view answers 404).
        NotConfiguredError: no usable model.
    """
    from ..models import Conversation

    if not isinstance(message, str) or not message.strip():
        raise ChatInputError("'message' must be a non-empty string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ChatInputError(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
    if model is not None and not isinstance(model, str):
        raise ChatInputError("'model' must be a string: an LLM model's id, name or provider:name")
    new_thread = thread_id in (None, "")
    if new_thread:
        thread_id = uuid.uuid4().hex
    elif not isinstance(thread_id, str) or not _THREAD_ID.match(thread_id):
        raise ChatInputError(
            "'thread_id' must be 1-128 letters, digits or '_.:-' (omit it to start a new thread)"
        )
    conversation = Conversation.objects.filter(thread_id=thread_id).first()
    if conversation is not None and conversation.owner_id != user.pk:
        raise ThreadAccessError(f"Conversation {thread_id!r} not found")
    chosen = chat_tenant(user, tenant)
    if conversation is not None:
        chosen = _thread_tenant(user, conversation, chosen, named=tenant not in (None, ""))
        if model is None and conversation.llm_model_id is not None:
            model = str(conversation.llm_model_id)  # keep talking to the same model
    plan = _plan(user, model, user_token, chosen)
    plan = with_object_context(
        plan, user, context, tenant=get_settings().tenancy.tool_scope(chosen)
    )
    return PreparedChat(
        user=user,
        message=message,
        thread_id=thread_id,
        plan=plan,
        timeout=float(get_settings().request_timeout_seconds),
        new_thread=conversation is None,
        conversation=conversation,
    )


def _thread_tenant(user: Any, conversation: Any, chosen: Any, *, named: bool) -> Any:
    """The tenant of an existing thread: its own; naming another one is refused.

    Raises:
        ChatInputError: the request names another tenant than the thread's, or the user may no
            longer view the thread's tenant.
    """
    if named and getattr(chosen, "pk", None) != conversation.tenant_id:
        raise ChatInputError(
            "This conversation belongs to another tenant: leave 'tenant' out (or send the "
            "thread's own), or start a new thread for that tenant"
        )
    if conversation.tenant_id is None:
        return None
    return chat_tenant(user, str(conversation.tenant_id))


def _plan(user: Any, model: Any, user_token: str | None, tenant: Any) -> AgentPlan:
    tools = nautobot_tools(user, get_settings().tenancy.tool_scope(tenant))
    return plan_agent(user, model=model, user_token=user_token, tools=tools, tenant=tenant)


def prepare_resume(
    user: Any,
    thread_id: Any,
    *,
    pause_id: Any = None,
    approve: Any = (),
    reject: Any = (),
    answers: Any = None,
    user_token: str | None = None,
) -> PreparedChat:
    """Validate a decision on a paused turn's tool calls (sync).

    ``answers`` answer the questions MCP servers asked during paused calls (see
    :mod:`~aiops_nautobot.services.elicitation`); each is checked against its form here.

    The decisions apply to the paused run ``pause_id`` only (the ``pause_id`` of the paused
    answer): if the thread paused again since, or the run was resumed already, the engine
    refuses them (HTTP 409), and no tool runs twice.

    Raises:
        ChatInputError: bad thread id or decision lists.
        ThreadAccessError: no such conversation of this user (the view answers 404).
    """
    from ..models import Conversation

    if not isinstance(thread_id, str) or not _THREAD_ID.match(thread_id):
        raise ChatInputError("'thread_id' must name the conversation whose turn awaits approval")
    decisions = []
    for key, value in (("approve", approve), ("reject", reject)):
        if value is None:
            value = []
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ChatInputError(f"'{key}' must be a list of tool call ids")
        decisions.append(tuple(value))
    if not any(decisions) and not answers:
        raise ChatInputError(
            "Give the tool call ids to 'approve' and/or 'reject' (or 'answers' to questions)"
        )
    if not isinstance(pause_id, str) or not _THREAD_ID.match(pause_id):
        raise ChatInputError(
            "'pause_id' must name the paused run: send the 'pause_id' of the paused answer"
        )
    conversation = Conversation.objects.filter(thread_id=thread_id, owner=user).first()
    if conversation is None:
        raise ThreadAccessError(f"Conversation {thread_id!r} not found")
    if answers:
        answers = parse_answers(answers, pending_questions(thread_id, pause_id))
    model = str(conversation.llm_model_id) if conversation.llm_model_id else None
    chosen = _thread_tenant(user, conversation, None, named=False)
    plan = _plan(user, model, user_token, chosen)
    return PreparedChat(
        user=user,
        message="",
        thread_id=thread_id,
        plan=plan,
        timeout=float(get_settings().request_timeout_seconds),
        new_thread=False,
        approve=decisions[0],
        reject=decisions[1],
        pause_id=pause_id,
        answers=answers or None,
        conversation=conversation,
    )


def run_resume(chat: PreparedChat, engine: EngineLoop | None = None) -> dict[str, Any]:
    """Continue a paused turn with the decisions in ``chat``; returns the response body."""
    engine = engine or get_engine_loop()

    async def resume() -> Any:
        async with open_agent(chat.plan, engine) as agent:
            return await agent.resume(
                thread_id=chat.thread_id,
                pause_id=chat.pause_id,
                approve=chat.approve,
                reject=chat.reject,
                user=chat.plan.user_key,
                tenant=chat.plan.tenant_key,
                reason="rejected by the user",
                answers=chat.answers,
            )

    result = engine.run(resume(), timeout=chat.timeout)
    record_conversation(chat, result)
    return {**reply_data(chat.thread_id, result), **budget_fields(chat.plan)}


async def _run(chat: PreparedChat, engine: EngineLoop) -> Any:
    async with open_agent(chat.plan, engine) as agent:
        return await agent.run(
            chat.message,
            thread_id=chat.thread_id,
            user=chat.plan.user_key,
            tenant=chat.plan.tenant_key,
        )


def run_chat(chat: PreparedChat, engine: EngineLoop | None = None) -> dict[str, Any]:
    """Run the turn and record the conversation; returns the response body."""
    engine = engine or get_engine_loop()
    result = engine.run(_run(chat, engine), timeout=chat.timeout)
    record_conversation(chat, result)
    return {**reply_data(chat.thread_id, result), **budget_fields(chat.plan)}


def stream_chat(chat: PreparedChat, engine: EngineLoop | None = None) -> Iterator[tuple[str, Any]]:
    """Run the turn streaming; yields ``(event, data)`` pairs ending with ``final``.

    Events: ``text`` and ``thinking`` deltas (``{"delta": ...}``; thinking also names its part
    ``index``), ``tool_call_started``, ``tool_call_finished``, then ``final``.

    Errors are raised to the caller (after the events that preceded them). A turn stopped
    through ``chat/cancel/`` ends with a ``cancelled`` event instead of ``final``.
    """
    from aiops_core.agent import (
        FinalResult,
        TextDelta,
        ThinkingDelta,
        ToolCallFinished,
        ToolCallStarted,
    )

    from .chat_cancel import until_cancelled, watch_turn

    engine = engine or get_engine_loop()
    turn = watch_turn(chat.user.pk, chat.thread_id, engine, timeout=chat.timeout)

    async def events() -> Any:
        async with open_agent(chat.plan, engine) as agent:
            stream = agent.stream(
                chat.message,
                thread_id=chat.thread_id,
                user=chat.plan.user_key,
                tenant=chat.plan.tenant_key,
            )
            async for event in until_cancelled(stream, turn):
                yield event

    for event in engine.iterate(events(), timeout=chat.timeout):
        if isinstance(event, TextDelta):
            yield "text", {"delta": event.text}
        elif isinstance(event, ThinkingDelta):  # the model's reasoning, shown apart (collapsed)
            yield "thinking", {"delta": event.text, "index": event.index}
        elif isinstance(event, ToolCallStarted):
            yield "tool_call_started", _call_data(event.call)
        elif isinstance(event, ToolCallFinished):
            yield "tool_call_finished", {**_call_data(event.call), **_result_data(event.result)}
        elif isinstance(event, FinalResult):
            record_conversation(chat, event.result)
            yield "final", {**reply_data(chat.thread_id, event.result), **budget_fields(chat.plan)}
    if turn.cancelled:  # stopped through chat/cancel/: the engine stored nothing
        yield "cancelled", {"thread_id": chat.thread_id}


def record_conversation(chat: PreparedChat, result: Any) -> None:
    """Create or update the user's ``Conversation`` row after a turn.

    The row is change-logged and sent to webhooks when it is created or its model changes, so it
    gets a neutral title, never message text (the store keeps the first message as the thread's
    title, for its owner). A later turn on the same model only moves ``last_activity``: that is
    activity, not a change, and is neither change-logged nor sent to webhooks.
    """
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from ..models import Conversation

    now = timezone.now()
    conversation = chat.conversation
    if conversation is None:
        try:
            with transaction.atomic():
                Conversation.objects.create(
                    thread_id=chat.thread_id,
                    owner=chat.user,
                    title=neutral_title(now),
                    tenant_id=chat.plan.tenant_key,
                    last_activity=now,
                    **_model_field(chat.plan),
                )
            return
        except IntegrityError:  # a concurrent first turn of the same thread id created it
            conversation = Conversation.objects.get(thread_id=chat.thread_id)
    if conversation.owner_id != chat.user.pk:  # pragma: no cover - the store refused first
        raise ThreadAccessError(f"Conversation {chat.thread_id!r} not found")
    model = _model_field(chat.plan)
    if conversation.llm_model_id == _model_id(model):
        # Activity, not a change: one UPDATE, no change-log entry or webhook per turn.
        Conversation.objects.filter(pk=conversation.pk).update(last_activity=now, last_updated=now)
        return
    conversation.owner = chat.user  # the same user, loaded: the change log reads it
    conversation.last_activity = now
    for key, value in model.items():
        setattr(conversation, key, value)
    conversation.save()  # the conversation's model changed: change-logged


def _model_field(plan: AgentPlan) -> dict[str, Any]:
    """The conversation's model: the plan's row when it has one (its provider is loaded, so the
    change log does not read them again), else its id (``None`` for the LAB fallback)."""
    row = plan.model_row
    if row is not None and row.pk == plan.model.llm_model_id:
        return {"llm_model": row}
    return {"llm_model_id": plan.model.llm_model_id}


def _model_id(field: dict[str, Any]) -> Any:
    row = field.get("llm_model")
    return row.pk if row is not None else field.get("llm_model_id")


def neutral_title(moment: Any) -> str:
    """The title of a new conversation record: when it started, nothing of what was said."""
    return f"Conversation of {moment:%Y-%m-%d %H:%M} UTC"


def reply_data(thread_id: str, result: Any) -> dict[str, Any]:
    """The JSON body of a finished turn (model output is data, never HTML)."""
    from aiops_core.messages import ToolResultMessage

    results = {m.tool_call_id: m for m in result.messages if isinstance(m, ToolResultMessage)}
    calls = []
    for call in result.tool_calls:
        item = _call_data(call)
        if call.id in results:
            item.update(_result_data(results[call.id]))
        calls.append(item)
    usage = result.usage
    output = result.output
    if output is not None and not isinstance(output, str | int | float | bool | list | dict):
        output = str(output)
    return {
        "thread_id": thread_id,
        "status": result.status,
        "output": output,
        "model": result.model,
        "tool_calls": calls,
        "usage": {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cached_tokens": usage.cached_tokens,
            "total_tokens": usage.total_tokens,
            "requests": usage.requests,
        },
        "warnings": list(result.warnings),
        "pause_id": result.pending.pause_id if result.pending else None,
        "pending_approval": [
            _pending_data(call, result.pending)
            for call in (result.pending.calls if result.pending else [])
        ],
    }


def _pending_data(call: Any, pending: Any) -> dict[str, Any]:
    """A call awaiting a decision; ``question`` is set when its MCP server asked the user."""
    item = {**_call_data(call), "reason": pending.reasons.get(call.id, "")}
    question = pending.questions.get(call.id)
    if question is not None:
        item["question"] = question_data(question)
    return item


def _call_data(call: Any) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _result_data(message: Any) -> dict[str, Any]:
    text = message.text
    if len(text) > MAX_RESULT_CHARS:
        text = text[: MAX_RESULT_CHARS - 3] + "..."
    return {"result": text, "is_error": message.is_error}
