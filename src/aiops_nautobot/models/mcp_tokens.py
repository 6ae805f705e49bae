"""OAuth tokens of MCP servers, encrypted at rest (see :mod:`aiops_nautobot.services.mcp_tokens`)."""

from __future__ import annotations

from django.db import models
from nautobot.core.models import BaseModel

__all__ = ["MCPServerToken"]


class MCPServerToken(BaseModel):
    """One MCP server's OAuth record (tokens, registered client), encrypted.

    Not change-logged and not in the REST API: ``ciphertext`` never leaves the app. ``key`` is
    the server's engine name (:attr:`MCPServer.config_name`); the record inside is bound to that
    key and to the server's MCP endpoint URL.
    """

    key = models.CharField(max_length=64, unique=True)
    ciphertext = models.TextField()
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "MCP server token"

    def __str__(self) -> str:
        return f"OAuth tokens of {self.key}"

    def __repr__(self) -> str:
        return f"<MCPServerToken key={self.key!r}>"
