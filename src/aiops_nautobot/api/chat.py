"""``POST /api/plugins/ai-ops/chat/``: one chat turn, as JSON or as server-sent events."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from nautobot.core.api.views import NautobotAPIVersionMixin
from rest_framework import permissions, renderers, status
from rest_framework.exceptions import ParseError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ..permissions import TokenWritePermission, UseChatPermission
from ..services.chat import (
    prepare_chat,
    prepare_resume,
    run_chat,
    run_resume,
    stream_chat,
)
from ..services.errors import ChatInputError
from ..services.metrics import observed_chat
from ..settings import get_settings
from .chat_serializers import (
    ChatApprovalRequestSerializer,
    ChatErrorSerializer,
    ChatRequestSerializer,
    ChatResponseSerializer,
    validated,
)
from .errors import http_error

__all__ = ["ChatAPIView", "ChatApprovalView", "ChatView", "EventStreamRenderer", "error_responses"]

log = logging.getLogger("aiops_nautobot.api")


class EventStreamRenderer(renderers.BaseRenderer):
    """Lets clients ask for ``Accept: text/event-stream`` (the body is built by the view)."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        # Only errors raised before streaming starts reach a renderer: send them as one event.
        return _event("error", data).encode()


class ChatAPIView(NautobotAPIVersionMixin, APIView):
    """Base of the chat endpoints: Nautobot's API version handling (``API-Version`` header) and
    the chat permissions."""

    permission_classes = [permissions.IsAuthenticated, TokenWritePermission, UseChatPermission]


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """OpenAPI entries for the ``{error, detail}`` answers an endpoint can give."""
    return {
        code: OpenApiResponse(ChatErrorSerializer, description="An error: {error, detail}")
        for code in statuses
    }


_TURN_ERRORS = error_responses(400, 403, 404, 409, 422, 429, 502, 503, 504)


class ChatView(ChatAPIView):
    """Send a message to the assistant.

    Body: ``message`` (required), ``thread_id`` (continue a conversation), ``model`` (an LLM
    model's id, name or ``provider:name``; default: the conversation's or the default model),
    ``stream`` (``true``, or ``Accept: text/event-stream``: answer as server-sent events),
    ``context`` (``{"object": "dcim.device:<uuid>"}``: an object the user may view, given to
    the model as context), ``tenant`` (a tenant's id or name that the user may view: the new
    thread's tenant; a thread keeps its tenant).
    The answer is ``{thread_id, status, output, model, tool_calls, usage, warnings, pause_id,
    pending_approval}`` (``pause_id`` and ``pending_approval`` are set when the turn paused for
    approval).
    """

    renderer_classes = [renderers.JSONRenderer, EventStreamRenderer]

    def get_view_name(self) -> str:
        return "AI Ops Chat"

    @extend_schema(
        operation_id="plugins_ai_ops_chat_create",
        request=ChatRequestSerializer,
        responses={
            (200, "application/json"): ChatResponseSerializer,
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR,
                description="With stream: server-sent events (text, thinking, tool_call_started, "
                "tool_call_finished, then final, error or cancelled)",
            ),
            **_TURN_ERRORS,
        },
    )
    @observed_chat("chat")
    def post(self, request: Request) -> Any:
        environment = get_settings().environment
        try:
            body = _body(request)
            if "stream" not in body and "stream" in request.query_params:
                body = {**body, "stream": request.query_params["stream"]}
            data = validated(ChatRequestSerializer, body)
            # A client that accepts only an event stream gets one.
            stream = bool(data.get("stream")) or (
                getattr(request.accepted_renderer, "format", None) == "sse"
            )
            chat = prepare_chat(
                request.user,
                data.get("message"),
                thread_id=data.get("thread_id"),
                model=data.get("model") or None,  # blank: no choice, like omitting it
                user_token=_user_token(request),
                context=data.get("context"),
                tenant=data.get("tenant") or None,
            )
        except Exception as err:
            return _error_response(err, environment)
        if stream:
            response = StreamingHttpResponse(
                _sse(chat, environment), content_type="text/event-stream; charset=utf-8"
            )
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
            return response
        try:
            answer = run_chat(chat)
        except Exception as err:
            return _error_response(err, environment)
        return Response(answer, status=status.HTTP_200_OK)


class ChatApprovalView(ChatAPIView):
    """Decide on tool calls a turn paused for (the ``tool_approval`` middleware).

    Body: ``thread_id``, the paused answer's ``pause_id``, and the ids from its
    ``pending_approval`` list in ``approve`` and/or ``reject`` (every pending call needs a
    decision). A call whose MCP server asked the user something has a ``question``
    (``{message, requested_schema}``) in the list: answer it in ``answers``
    (``{call_id: {"action": "accept"|"decline"|"cancel", "content": {...}}}``, checked against
    the requested schema) instead of approving it. The answer is the finished turn, like ``POST chat/``. Decisions are used once: a
    second request for the same pause (concurrent or later), or one for a pause the thread has
    moved past, is a 409 and runs nothing.
    """

    def get_view_name(self) -> str:
        return "AI Ops Chat Approval"

    @extend_schema(
        operation_id="plugins_ai_ops_chat_approve_create",
        request=ChatApprovalRequestSerializer,
        responses={200: ChatResponseSerializer, **_TURN_ERRORS},
    )
    @observed_chat("approval")
    def post(self, request: Request) -> Any:
        environment = get_settings().environment
        try:
            data = validated(ChatApprovalRequestSerializer, _body(request))
            chat = prepare_resume(
                request.user,
                data.get("thread_id"),
                pause_id=data.get("pause_id"),
                approve=data.get("approve") or (),
                reject=data.get("reject") or (),
                answers=data.get("answers"),
                user_token=_user_token(request),
            )
            body = run_resume(chat)
        except Exception as err:
            return _error_response(err, environment)
        return Response(body, status=status.HTTP_200_OK)


def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object; a body that is not one is the caller's error (400)."""
    try:
        data = request.data
    except ParseError as err:
        raise ChatInputError(f"The body must be a JSON object: {err.detail}") from None
    if not isinstance(data, dict):
        raise ChatInputError('The body must be a JSON object, e.g. {"message": "..."}')
    return data


def _error_response(err: BaseException, environment: str) -> Response:
    error = http_error(err, environment=environment)
    return Response(error.body(), status=error.status)


def _sse(chat: Any, environment: str) -> Iterator[str]:
    try:
        for event, data in stream_chat(chat):
            yield _event(event, data)
    except Exception as err:
        error = http_error(err, environment=environment)
        yield _event("error", {"status": error.status, **error.body()})


def _event(name: str, data: Any) -> str:
    # json.dumps escapes newlines, so one data line per event is always valid SSE.
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


def _user_token(request: Request) -> str | None:
    """The API token the request authenticated with, if any (forwarded to opted-in servers)."""
    token = getattr(request, "auth", None)
    key = getattr(token, "key", None)
    return key if isinstance(key, str) and key else None
