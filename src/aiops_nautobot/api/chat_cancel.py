"""``POST /api/plugins/ai-ops/chat/cancel/``: stop the user's running streamed turn."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..permissions import TokenWritePermission, UseChatPermission
from ..services.chat_cancel import request_cancel
from ..services.errors import ChatInputError
from ..settings import get_settings
from .chat import _body, _error_response

__all__ = ["ChatCancelView"]


class ChatCancelView(APIView):
    """Stop the running streamed turn of one of your conversations.

    Body: ``thread_id``. The stream of that turn ends with a ``cancelled`` event and the turn
    stores nothing (the conversation stays as it was before the message). Answers 202 whether
    or not a turn is running: a stop request for a turn that already ended does nothing, and
    one for another user's thread can reach none of theirs.
    """

    permission_classes = [permissions.IsAuthenticated, TokenWritePermission, UseChatPermission]

    def get_view_name(self) -> str:
        return "AI Ops Chat Cancel"

    def post(self, request: Request) -> Any:
        from ..services.chat import _THREAD_ID

        try:
            thread_id = _body(request).get("thread_id")
            if not isinstance(thread_id, str) or not _THREAD_ID.match(thread_id):
                raise ChatInputError("'thread_id' must name the conversation whose turn to stop")
            request_cancel(request.user, thread_id)
        except Exception as err:
            return _error_response(err, get_settings().environment)
        return Response({"thread_id": thread_id, "status": "cancelling"}, status.HTTP_202_ACCEPTED)
