"""``POST /api/plugins/ai-ops/chat/cancel/``: stop the user's running streamed turn."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from ..services.chat_cancel import request_cancel
from ..settings import get_settings
from .chat import ChatAPIView, _body, _error_response, error_responses
from .chat_serializers import (
    ChatCancelRequestSerializer,
    ChatCancelResponseSerializer,
    validated,
)

__all__ = ["ChatCancelView"]


class ChatCancelView(ChatAPIView):
    """Stop the running streamed turn of one of your conversations.

    Body: ``thread_id``. The stream of that turn ends with a ``cancelled`` event and the turn
    stores nothing (the conversation stays as it was before the message). Answers 202 whether
    or not a turn is running: a stop request for a turn that already ended does nothing, and
    one for another user's thread can reach none of theirs.
    """

    def get_view_name(self) -> str:
        return "AI Ops Chat Cancel"

    @extend_schema(
        operation_id="plugins_ai_ops_chat_cancel_create",
        request=ChatCancelRequestSerializer,
        responses={202: ChatCancelResponseSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Any:
        try:
            thread_id = validated(ChatCancelRequestSerializer, _body(request))["thread_id"]
            request_cancel(request.user, thread_id)
        except Exception as err:
            return _error_response(err, get_settings().environment)
        return Response({"thread_id": thread_id, "status": "cancelling"}, status.HTTP_202_ACCEPTED)
