"""Who may use the chat.

The permission is declared as ``aiops_nautobot.use_chat`` (``Conversation.Meta.permissions``).
Nautobot grants permissions through ObjectPermissions, whose names are always
``<app>.<action>_<model>``: an ObjectPermission on *Conversation* with the additional action
``use_chat`` grants ``aiops_nautobot.use_chat_conversation``. Both names are accepted.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

__all__ = ["USE_CHAT_PERMISSIONS", "UseChatPermission", "user_can_chat"]

USE_CHAT_PERMISSIONS = ("aiops_nautobot.use_chat", "aiops_nautobot.use_chat_conversation")


def user_can_chat(user: Any) -> bool:
    """Whether ``user`` may use the chat (superusers always may)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return any(user.has_perm(name) for name in USE_CHAT_PERMISSIONS)


class UseChatPermission(BasePermission):
    """DRF permission for the chat endpoint."""

    message = (
        "You need the 'use_chat' permission: an ObjectPermission on AI Ops > Conversation "
        "with the additional action 'use_chat'."
    )

    def has_permission(self, request: Any, view: Any) -> bool:
        return user_can_chat(request.user)
