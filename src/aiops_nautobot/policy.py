"""The app's security policy: what configuration rows may make the app do.

One module owns these rules; models ask it when a row is saved and services ask it again when a
row is used. They never re-implement them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .choices import MCPProtocolChoices, MCPServerTypeChoices

__all__ = ["may_forward_token", "token_forwarding_refusal"]


def token_forwarding_refusal(server: Any) -> str | None:
    """Why the user's token may not be forwarded to an MCP server row (``None``: it may)."""
    if server.server_type != MCPServerTypeChoices.INTERNAL:
        return "The user's token may only be forwarded to internal servers."
    if server.protocol != MCPProtocolChoices.HTTP or urlsplit(server.url or "").scheme != "https":
        return "The user's token may only be forwarded over HTTPS."
    if not server.verify_tls:
        return "The user's token may only be forwarded with TLS verification on."
    return None


def may_forward_token(server: Any) -> bool:
    """Whether a row's ``forward_user_token`` takes effect (the row asks and the policy allows)."""
    return bool(server.forward_user_token) and token_forwarding_refusal(server) is None
