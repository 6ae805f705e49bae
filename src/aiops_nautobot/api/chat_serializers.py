"""Request and response serializers of the chat endpoints (``chat/``, ``chat/approve/``,
``chat/cancel/``).

They check each field's type and shape and describe the endpoints in the OpenAPI schema. The
services check again what depends on the database (thread owner, models, pending calls).
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from ..services.chat import _THREAD_ID, MAX_MESSAGE_CHARS
from ..services.errors import ChatInputError

__all__ = [
    "ChatApprovalRequestSerializer",
    "ChatCancelRequestSerializer",
    "ChatCancelResponseSerializer",
    "ChatContextSerializer",
    "ChatErrorSerializer",
    "ChatRequestSerializer",
    "ChatResponseSerializer",
    "validated",
]

_ID_HELP = "1-128 letters, digits or '_.:-'"


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers and booleans (DRF's ``CharField`` turns them into
    strings) and keeps whitespace as sent."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _id_field(help_text: str, **kwargs: Any) -> StrictCharField:
    # validators as an argument: DRF rebuilds fields from their arguments for every serializer.
    validators = [RegexValidator(_THREAD_ID, f"Must be {_ID_HELP}.")]
    return StrictCharField(max_length=128, help_text=help_text, validators=validators, **kwargs)


class ChatContextSerializer(serializers.Serializer):
    """An object the user may view, given to the model as context."""

    object = StrictCharField(
        help_text="The object as app_label.model:<uuid>, e.g. dcim.device:<id>"
    )

    def to_internal_value(self, data: Any) -> Any:
        if data == {}:
            return {}  # no context, like null
        if isinstance(data, dict) and set(data) - {"object"}:
            unknown = ", ".join(sorted(map(str, set(data) - {"object"})))
            raise ValidationError(f"Unknown key(s) {unknown}: only 'object' is allowed.")
        return super().to_internal_value(data)


class ChatRequestSerializer(serializers.Serializer):
    """Body of ``POST chat/``."""

    message = StrictCharField(max_length=MAX_MESSAGE_CHARS, help_text="The user's message")
    thread_id = _id_field(
        "The conversation to continue (omit it to start a new one)",
        required=False,
        allow_blank=True,
        allow_null=True,
    )
    model = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="An LLM model's id, name or provider:name (default: the conversation's model "
        "or the default model)",
    )
    tenant = StrictCharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="A tenant's id or name (one you may view): a new thread uses that tenant's "
        "configuration and the shared one; a thread keeps its tenant (default: none, or the "
        "thread's)",
    )
    stream = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Answer as server-sent events (also: ?stream=true or Accept: text/event-stream)",
    )
    context = ChatContextSerializer(required=False, allow_null=True)


class ChatApprovalRequestSerializer(serializers.Serializer):
    """Body of ``POST chat/approve/``: decisions on the tool calls a turn paused for."""

    thread_id = _id_field(
        "The conversation whose turn awaits approval",
        error_messages={
            "required": "Name the conversation whose turn awaits approval.",
            "null": "Name the conversation whose turn awaits approval.",
        },
    )
    pause_id = _id_field(
        "The pause_id of the paused answer",
        error_messages={
            "required": "Send the 'pause_id' of the paused answer.",
            "null": "Send the 'pause_id' of the paused answer.",
        },
    )
    approve = serializers.ListField(
        child=StrictCharField(),
        required=False,
        allow_null=True,
        help_text="Ids of pending tool calls to run",
    )
    reject = serializers.ListField(
        child=StrictCharField(),
        required=False,
        allow_null=True,
        help_text="Ids of pending tool calls to refuse",
    )
    answers = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        allow_null=True,
        help_text='Answers to MCP servers\' questions: {call_id: {"action": "accept"|"decline"|'
        '"cancel", "content": {...}}}',
    )


class ChatCancelRequestSerializer(serializers.Serializer):
    """Body of ``POST chat/cancel/``."""

    thread_id = _id_field(
        "The conversation whose running streamed turn to stop",
        error_messages={"required": "Name the conversation whose turn to stop."},
    )


class ChatResponseSerializer(serializers.Serializer):
    """A finished or paused turn (``chat/`` and ``chat/approve/``)."""

    thread_id = serializers.CharField()
    status = serializers.CharField(
        help_text="completed, or pending_approval when the turn paused for approval"
    )
    output = serializers.JSONField(allow_null=True)
    model = serializers.CharField(allow_null=True)
    tool_calls = serializers.ListField(child=serializers.DictField())
    usage = serializers.DictField(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())
    pause_id = serializers.CharField(allow_null=True, help_text="Set when the turn paused")
    pending_approval = serializers.ListField(
        child=serializers.DictField(), help_text="Tool calls awaiting a decision"
    )


class ChatCancelResponseSerializer(serializers.Serializer):
    thread_id = serializers.CharField()
    status = serializers.CharField(help_text="Always cancelling")


class ChatErrorSerializer(serializers.Serializer):
    """The error answer of every chat endpoint."""

    error = serializers.CharField(help_text="A stable code, e.g. bad_request")
    detail = serializers.CharField(help_text="What went wrong and what to change")


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """``data`` checked by ``serializer_class``; a bad field is a :class:`ChatInputError` whose
    message names it (the views answer 400 ``{error, detail}``)."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise ChatInputError(_message(serializer.errors))
    return dict(serializer.validated_data)


def _message(errors: Any, prefix: str = "") -> str:
    if isinstance(errors, dict):
        parts = []
        for key, value in errors.items():
            if key == "non_field_errors":
                parts.append(_message(value, prefix))
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
                parts.append(_message(value, name))
        return "; ".join(parts)
    if isinstance(errors, list):
        texts = [_message(item, prefix) for item in errors]
        return "; ".join(text for text in texts if text)
    return f"'{prefix}': {errors}" if prefix else str(errors)
