"""``GET /api/plugins/ai-ops/conversations/{id}/messages/``: a conversation's history."""

from __future__ import annotations

import json
from typing import Any

from django.shortcuts import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from ..services.conversations import load_thread_messages
from ..settings import get_settings
from .errors import http_error

__all__ = ["conversation_messages"]


def conversation_messages(request: Request, queryset: Any, pk: Any) -> Response:
    """The stored title and messages of one of the user's conversations.

    ``queryset`` is already limited to what the user may see; the store checks the owner again.
    The title (the first message's start) lives only in the store, never in the change-logged
    record. Model output is data, not HTML.
    """
    conversation = get_object_or_404(queryset, pk=pk)
    try:
        thread = load_thread_messages(conversation.thread_id, owner=conversation.owner_id)
    except Exception as err:
        error = http_error(err, environment=get_settings().environment)
        return Response(error.body(), status=error.status)
    return Response(
        {
            "thread_id": conversation.thread_id,
            "title": thread.title,
            "count": len(thread.messages),
            "messages": [json.loads(text) for text in thread.messages],
        }
    )
