"""An "Ask AI Ops" button on the detail pages of network objects.

It opens the chat page with the object as context
(``/plugins/ai-ops/chat/?object=<app_label>.<model>:<pk>``); the chat sends it as the chat API's
``context`` field, and the object is read again as the user before the model sees it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.utils.html import format_html
from nautobot.apps.ui import TemplateExtension

__all__ = ["ASK_MODELS", "AskAIOpsButton", "chat_url", "template_extensions"]

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


template_extensions = [
    type(f"AskAIOps_{label.replace('.', '_')}", (AskAIOpsButton,), {"model": label})
    for label in ASK_MODELS
]
