"""Buttons the app adds to Nautobot pages.

- "Ask AI Ops" on the detail pages of network objects: it opens the chat page with the object as
  context (``/plugins/ai-ops/chat/?object=<app_label>.<model>:<pk>``); the chat sends it as the
  chat API's ``context`` field, and the object is read again as the user before the model sees it.
- "Connect" / "Disconnect" on an OAuth MCP server.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html
from nautobot.apps.ui import TemplateExtension

from .choices import MCPOAuthGrantChoices

__all__ = [
    "ASK_MODELS",
    "AskAIOpsButton",
    "MCPServerOAuthButtons",
    "chat_url",
    "template_extensions",
]

ASK_MODELS = (
    "circuits.circuit",
    "dcim.device",
    "dcim.interface",
    "dcim.location",
    "ipam.ipaddress",
    "ipam.prefix",
)
CHAT_PATH = "/plugins/ai-ops/chat/"
CHAT_PERMISSION = "aiops_nautobot.use_chat_conversation"


def chat_url(obj: object) -> str:
    """The chat page with ``obj`` as context."""
    meta = obj._meta  # type: ignore[attr-defined]
    return f"{CHAT_PATH}?{urlencode({'object': f'{meta.label_lower}:{obj.pk}'})}"  # type: ignore[attr-defined]


class AskAIOpsButton(TemplateExtension):
    """The button, shown to users who may use the chat."""

    def buttons(self) -> str:
        request = self.context.get("request")
        obj = self.context.get("object")
        if obj is None or request is None or not request.user.has_perm(CHAT_PERMISSION):
            return ""
        return format_html(
            '<a href="{}" class="btn btn-primary" title="Open the AI Ops chat about this object">'
            '<span class="mdi mdi-robot-outline" aria-hidden="true"></span> Ask AI Ops</a>',
            chat_url(obj),
        )


_FORM = (
    '<form method="post" action="{}" style="display:inline">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
    '<button type="submit" class="btn btn-{}" title="{}">{}</button></form> '
)


class MCPServerOAuthButtons(TemplateExtension):
    """Connect (authorization-code servers) and Disconnect (any OAuth server), for users who may
    change the server."""

    model = "aiops_nautobot.mcpserver"

    def buttons(self) -> str:
        row = self.context["object"]
        request = self.context["request"]
        if row.oauth_grant == MCPOAuthGrantChoices.NONE or not request.user.has_perm(
            "aiops_nautobot.change_mcpserver", row
        ):
            return ""
        token = get_token(request)
        html = ""
        if row.oauth_grant == MCPOAuthGrantChoices.AUTHORIZATION_CODE:
            html += format_html(
                _FORM,
                reverse("plugins:aiops_nautobot:mcpserver_oauth_connect", kwargs={"pk": row.pk}),
                token,
                "primary",
                "Sign the app in to this server (OAuth)",
                "Connect",
            )
        html += format_html(
            _FORM,
            reverse("plugins:aiops_nautobot:mcpserver_oauth_disconnect", kwargs={"pk": row.pk}),
            token,
            "warning",
            "Delete the stored OAuth tokens",
            "Disconnect",
        )
        return html


template_extensions = [
    *(
        type(f"AskAIOps_{label.replace('.', '_')}", (AskAIOpsButton,), {"model": label})
        for label in ASK_MODELS
    ),
    MCPServerOAuthButtons,
]
