"""Who may use the chat, and what a read-only API token may not do.

The permission is declared as ``aiops_nautobot.use_chat`` (``Conversation.Meta.permissions``).
Nautobot grants permissions through ObjectPermissions, whose names are always
``<app>.<action>_<model>``: an ObjectPermission on *Conversation* with the additional action
``use_chat`` grants ``aiops_nautobot.use_chat_conversation``. Both names are accepted.
"""

from __future__ import annotations

from typing import Any

from nautobot.core.api.authentication import TokenPermissions
from rest_framework.permissions import SAFE_METHODS, BasePermission

__all__ = [
    "USE_CHAT_PERMISSIONS",
    "ChangeOnPostPermissions",
    "TokenWritePermission",
    "UseChatPermission",
    "user_can_chat",
]

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


class TokenWritePermission(BasePermission):
    """A token with ``write_enabled`` off may not use an unsafe method.

    Nautobot's :class:`~nautobot.core.api.authentication.TokenPermissions` enforces the same
    rule on every model endpoint; the chat views have no model queryset for it to work on, so
    they add this class next to their own.
    """

    message = "This API token is read-only (write_enabled is off): use a token that may write."

    def has_permission(self, request: Any, view: Any) -> bool:
        from nautobot.users.models import Token

        auth = getattr(request, "auth", None)
        if isinstance(auth, Token) and request.method not in SAFE_METHODS:
            return bool(auth.write_enabled)
        return True


class ChangeOnPostPermissions(TokenPermissions):
    """Nautobot's token and model permissions, for a detail action that changes its object.

    A ``POST`` to such an action (``mcp-servers/{id}/health-check/``) needs the change
    permission, not the add permission of a ``POST`` to the list.
    """

    perms_map = {**TokenPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}
