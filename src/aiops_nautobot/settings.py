"""The one accessor of the app's settings: :func:`get_settings`.

Values come from ``PLUGINS_CONFIG["aiops_nautobot"]`` and are read on every call (never frozen
into import-time constants), so ``override_settings`` in tests and reloads in production work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiops_core.errors import UserError
from aiops_core.masking import mask_url

__all__ = ["ENVIRONMENTS", "AiopsSettings", "get_settings"]

APP_NAME = "aiops_nautobot"
ENVIRONMENT_VARIABLE = "AIOPS_ENVIRONMENT"
ENVIRONMENTS = ("LAB", "NONPROD", "PROD")
CHECKPOINT_REDIS_DB = 2


@dataclass(frozen=True, slots=True)
class AiopsSettings:
    """The validated settings of the app.

    Attributes:
        chat_session_ttl_minutes: idle minutes after which a chat thread expires.
        checkpoint_url: where conversation messages are stored (``redis://…/2`` by default).
        request_timeout_seconds: upper bound of one chat request.
        max_steps: upper bound of model calls in one chat turn.
        environment: ``LAB``, ``NONPROD`` or ``PROD``.
    """

    chat_session_ttl_minutes: int
    checkpoint_url: str
    request_timeout_seconds: int
    max_steps: int
    environment: str

    def __repr__(self) -> str:
        # The checkpoint URL may carry a Redis password.
        return (
            f"AiopsSettings(environment={self.environment!r}, max_steps={self.max_steps}, "
            f"request_timeout_seconds={self.request_timeout_seconds}, "
            f"chat_session_ttl_minutes={self.chat_session_ttl_minutes}, "
            f"checkpoint_url={mask_url(self.checkpoint_url)!r})"
        )


def get_settings() -> AiopsSettings:
    """Read and validate ``PLUGINS_CONFIG["aiops_nautobot"]``.

    Raises:
        UserError: a value is invalid; the message names the key and what to set.
    """
    from django.conf import settings

    raw: dict[str, Any] = dict(getattr(settings, "PLUGINS_CONFIG", {}).get(APP_NAME) or {})
    known = {"chat_session_ttl_minutes", "checkpoint_url", "request_timeout_seconds"}
    known |= {"max_steps", "environment"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserError(
            f"PLUGINS_CONFIG[{APP_NAME!r}] has unknown keys {unknown}: use {sorted(known)}"
        )
    return AiopsSettings(
        chat_session_ttl_minutes=_positive_int(raw, "chat_session_ttl_minutes", 5),
        checkpoint_url=raw.get("checkpoint_url") or default_checkpoint_url(),
        request_timeout_seconds=_positive_int(raw, "request_timeout_seconds", 120),
        max_steps=_positive_int(raw, "max_steps", 20),
        environment=_environment(raw.get("environment")),
    )


def _positive_int(raw: dict[str, Any], key: str, default: int) -> int:
    value = raw.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(
            f"PLUGINS_CONFIG[{APP_NAME!r}][{key!r}] must be a positive integer, got {value!r}"
        )
    return value


def _environment(configured: object) -> str:
    """``AIOPS_ENVIRONMENT`` wins over the config; the default is LAB (never the hostname)."""
    from_env = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    value = from_env or configured or "LAB"
    where = ENVIRONMENT_VARIABLE if from_env else f"PLUGINS_CONFIG[{APP_NAME!r}]['environment']"
    if not isinstance(value, str) or value.upper() not in ENVIRONMENTS:
        raise UserError(f"{where} must be one of {', '.join(ENVIRONMENTS)}, got {value!r}")
    return value.upper()


def default_checkpoint_url() -> str:
    """Nautobot's own Redis (from its default cache), database 2."""
    from django.conf import settings

    location = settings.CACHES.get("default", {}).get("LOCATION")
    if isinstance(location, (list, tuple)):
        location = location[0] if location else None
    if not isinstance(location, str) or not location.startswith(("redis://", "rediss://")):
        from nautobot.core.settings_funcs import parse_redis_connection

        location = parse_redis_connection(redis_database=CHECKPOINT_REDIS_DB)
    parts = urlsplit(str(location))
    return urlunsplit(parts._replace(path=f"/{CHECKPOINT_REDIS_DB}"))
