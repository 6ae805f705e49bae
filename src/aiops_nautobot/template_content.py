"""Buttons the app adds to its own pages: "Connect" / "Disconnect" on an OAuth MCP server."""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html
from nautobot.apps.ui import TemplateExtension

from .choices import MCPOAuthGrantChoices

__all__ = ["MCPServerOAuthButtons", "template_extensions"]

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


template_extensions = [MCPServerOAuthButtons]
