"""The app's OAuth token store: MCP servers' tokens in the database, encrypted at rest.

Records (access and refresh tokens, a registered client's secret) are encrypted with Fernet
(AES-128-CBC with HMAC-SHA256) under a key derived from Django's ``SECRET_KEY``; rotating
``SECRET_KEY`` makes the stored records unreadable (they are then ignored, and an admin
connects again). Each record is bound to its key, so a ciphertext copied to another server's
row is refused. Nothing here logs or returns a record outside the engine.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import anyio.to_thread

__all__ = ["DatabaseTokenStore", "decrypt_record", "delete_tokens", "encrypt_record", "has_tokens"]

log = logging.getLogger("aiops_nautobot.mcp")

_CONTEXT = b"aiops_nautobot mcp oauth tokens v1"


def _fernet() -> Any:
    from cryptography.fernet import Fernet
    from django.conf import settings

    digest = hmac.new(settings.SECRET_KEY.encode(), _CONTEXT, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt_record(key: str, record: dict[str, Any]) -> str:
    """The ciphertext of ``record``, bound to ``key``."""
    plain = json.dumps({"key": key, "record": record}, sort_keys=True).encode()
    return str(_fernet().encrypt(plain).decode())


def decrypt_record(key: str, ciphertext: str) -> dict[str, Any] | None:
    """The record, or ``None`` when it cannot be read or belongs to another key."""
    from cryptography.fernet import InvalidToken

    try:
        data = json.loads(_fernet().decrypt(ciphertext.encode()))
    except (InvalidToken, ValueError):
        log.warning("OAuth tokens of MCP server %r cannot be decrypted; connect again", key)
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        log.warning("OAuth tokens stored for MCP server %r belong elsewhere; ignored", key)
        return None
    record = data.get("record")
    return record if isinstance(record, dict) else None


def has_tokens(key: str) -> bool:
    """Whether an access token is stored for the server ``key`` (sync)."""
    from ..models import MCPServerToken

    row = MCPServerToken.objects.filter(key=key).first()
    record = decrypt_record(key, row.ciphertext) if row is not None else None
    return bool(record and record.get("tokens"))


def delete_tokens(key: str) -> int:
    """Forget the server ``key``'s tokens and client registration (sync); returns rows deleted."""
    from ..models import MCPServerToken

    deleted, _ = MCPServerToken.objects.filter(key=key).delete()
    return deleted


class DatabaseTokenStore:
    """A :class:`aiops_core.mcp.TokenStore` on the ``MCPServerToken`` table (encrypted).

    The ORM runs in a worker thread, never on the engine loop.
    """

    def __repr__(self) -> str:
        return "DatabaseTokenStore()"

    async def get(self, key: str) -> dict[str, Any] | None:
        return await anyio.to_thread.run_sync(_closing(self._get), key)

    async def set(self, key: str, record: dict[str, Any]) -> None:
        await anyio.to_thread.run_sync(_closing(self._set), key, record)

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(_closing(delete_tokens), key)

    @staticmethod
    def _get(key: str) -> dict[str, Any] | None:
        from ..models import MCPServerToken

        row = MCPServerToken.objects.filter(key=key).first()
        return decrypt_record(key, row.ciphertext) if row is not None else None

    @staticmethod
    def _set(key: str, record: dict[str, Any]) -> None:
        from ..models import MCPServerToken

        MCPServerToken.objects.update_or_create(
            key=key, defaults={"ciphertext": encrypt_record(key, record)}
        )


def _closing(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` for one of anyio's worker threads: its database connection is closed after
    the call, not left to be dropped unclosed when the idle thread exits."""

    def call(*args: Any) -> Any:
        from django.db import connections

        try:
            return function(*args)
        finally:
            connections.close_all()

    return call
