"""The errors of the services, each mapped to one HTTP status by :mod:`aiops_nautobot.api.errors`."""

from __future__ import annotations

from aiops_core.errors import UserError

__all__ = ["ChatInputError", "NotConfiguredError", "UnknownModelError"]


class ChatInputError(UserError, ValueError):
    """The request itself is invalid (HTTP 400)."""


class UnknownModelError(ChatInputError):
    """The request names a model that does not exist or that the user may not use (HTTP 400)."""


class NotConfiguredError(UserError):
    """No usable model is configured; the message says what to set (HTTP 503)."""
