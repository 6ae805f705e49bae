"""The MCP server page's "Connect" and "Disconnect" buttons, and the OAuth callback.

Connect and Disconnect need the change permission on the server; the callback is finished only
by the user who pressed Connect (see :mod:`aiops_nautobot.services.mcp_connect`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

__all__ = ["MCPServerConnectView", "MCPServerDisconnectView", "MCPServerOAuthCallbackView"]

CALLBACK_URL_NAME = "plugins:aiops_nautobot:mcpserver_oauth_callback"


def _changeable(request: HttpRequest, pk: Any) -> Any:
    """The server ``pk`` if the user may change it (else 404: never confirm it exists)."""
    from .models import MCPServer

    queryset = MCPServer.objects.restrict(request.user, "change").select_related(
        "headers_secret", "oauth_secret"
    )
    row = queryset.filter(pk=pk).first()
    if row is None:
        raise Http404("No such MCP server")
    return row


def _detail(row_pk: Any) -> HttpResponse:
    return redirect(reverse("plugins:aiops_nautobot:mcpserver", kwargs={"pk": row_pk}))


class MCPServerConnectView(LoginRequiredMixin, View):
    """POST: start signing the app in to the server; the browser goes to its sign-in page."""

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        from .services.mcp_connect import start_connect

        row = _changeable(request, pk)
        callback = request.build_absolute_uri(reverse(CALLBACK_URL_NAME))
        outcome = start_connect(row, request.user, callback)
        if outcome.sign_in_url:
            return redirect(outcome.sign_in_url)
        (messages.success if outcome.ok else messages.error)(request, outcome.message)
        return _detail(row.pk)


class MCPServerDisconnectView(LoginRequiredMixin, View):
    """POST: delete the server's stored tokens."""

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        from .services.mcp_connect import disconnect

        row = _changeable(request, pk)
        messages.success(request, disconnect(row).message)
        return _detail(row.pk)


class MCPServerOAuthCallbackView(LoginRequiredMixin, View):
    """GET: where the authorization server sends the admin's browser back."""

    def get(self, request: HttpRequest) -> HttpResponse:
        from .services.mcp_connect import finish_connect

        query = {k: request.GET.get(k, "") for k in ("code", "state", "iss", "error")}
        server_pk, outcome = finish_connect(request.user, query)
        (messages.success if outcome.ok else messages.error)(request, outcome.message)
        if server_pk is None:
            return redirect(reverse("plugins:aiops_nautobot:mcpserver_list"))
        return _detail(server_pk)
