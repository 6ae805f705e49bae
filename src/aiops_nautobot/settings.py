"""The one accessor of the app's settings: :func:`get_settings`.

Values come from ``PLUGINS_CONFIG["aiops_nautobot"]`` and are read on every call (never frozen
into import-time constants), so ``override_settings`` in tests and reloads in production work.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiops_core.errors import UserError
from aiops_core.masking import mask_url

from .choices import EnvironmentChoices
from .security_config import SecurityConfig, parse_security_config
from .telemetry import TelemetryConfig, parse_telemetry
from .tenancy import TenancyConfig, parse_tenancy
from .tools.config import NativeToolsConfig, parse_native_tools

__all__ = ["DEFAULTS", "ENVIRONMENTS", "AiopsSettings", "get_settings"]

APP_NAME = "aiops_nautobot"
ENVIRONMENT_VARIABLE = "AIOPS_ENVIRONMENT"
ENVIRONMENTS = tuple(EnvironmentChoices.values())
CHECKPOINT_REDIS_DB = 2

DEFAULTS: dict[str, Any] = {
    "chat_session_ttl_minutes": 5,
    "checkpoint_url": None,
    "request_timeout_seconds": 120,
    "max_steps": 20,
    "environment": None,
    "stdio_commands": None,
    "allowed_urls": None,
    "token_forwarding_prefixes": None,
    "usage_retention_days": 90,
    "native_tools": None,
    "tenancy": None,
    "opentelemetry": None,
}
"""Every key of ``PLUGINS_CONFIG["aiops_nautobot"]`` and its default (also the app's
``default_settings``). ``None`` means "derived": see :func:`get_settings`."""


@dataclass(frozen=True, slots=True)
class AiopsSettings:
    """The validated settings of the app.

    Attributes:
        chat_session_ttl_minutes: idle minutes after which a chat thread expires.
        checkpoint_url: where conversation messages are stored (``redis://…/2`` by default).
        request_timeout_seconds: upper bound of one chat request.
        max_steps: upper bound of model calls in one chat turn.
        environment: ``LAB``, ``NONPROD`` or ``PROD``.
        usage_retention_days: days usage records are kept (the cleanup job prunes older ones).
        security: the operator's bounds (stdio commands, outbound URLs, token forwarding),
            applied by :mod:`aiops_nautobot.policy`.
        native_tools: the Nautobot-native toolset's switch and limits (``native_tools``: ``None``
            for the defaults, a bool, or a dict; see :mod:`aiops_nautobot.tools.config`).
        tenancy: the tenancy switches (``tenancy``: ``None`` for the defaults, or a dict such as
            ``{"restrict_tools_to_tenant": True}``; see :mod:`aiops_nautobot.tenancy`).
        opentelemetry: spans and metrics of chat turns on Nautobot's OpenTelemetry providers
            (``opentelemetry``: ``None``/``False`` off, ``True``, or ``{"enabled": True,
            "capture_content": False}``; see :mod:`aiops_nautobot.telemetry`).
    """

    chat_session_ttl_minutes: int
    checkpoint_url: str
    request_timeout_seconds: int
    max_steps: int
    environment: str
    security: SecurityConfig
    usage_retention_days: int = 90
    native_tools: NativeToolsConfig = field(default_factory=NativeToolsConfig)
    tenancy: TenancyConfig = field(default_factory=TenancyConfig)
    opentelemetry: TelemetryConfig = field(default_factory=TelemetryConfig)

    def __repr__(self) -> str:
        # The checkpoint URL may carry a Redis password.
        return (
            f"AiopsSettings(environment={self.environment!r}, max_steps={self.max_steps}, "
            f"request_timeout_seconds={self.request_timeout_seconds}, "
            f"chat_session_ttl_minutes={self.chat_session_ttl_minutes}, "
            f"checkpoint_url={mask_url(self.checkpoint_url)!r})"
        )


_parsed: dict[str, AiopsSettings] = {}
_PARSED_KEPT = 8


def get_settings() -> AiopsSettings:
    """Read and validate ``PLUGINS_CONFIG["aiops_nautobot"]``.

    Parsed once per distinct configuration (every chat request reads the settings; parsing the
    URL rules each time cost milliseconds): the memo is keyed on the whole input, the app's
    settings, the environment variable and Nautobot's cache location, so a changed value is
    parsed again.

    Raises:
        UserError: a value is invalid; the message names the key and what to set.
    """
    from django.conf import settings

    raw: dict[str, Any] = dict(getattr(settings, "PLUGINS_CONFIG", {}).get(APP_NAME) or {})
    key = repr((raw, os.environ.get(ENVIRONMENT_VARIABLE), settings.CACHES.get("default")))
    found = _parsed.get(key)
    if found is None:
        found = _parse(raw)
        if len(_parsed) >= _PARSED_KEPT:
            _parsed.clear()
        _parsed[key] = found
    return found


def _parse(raw: dict[str, Any]) -> AiopsSettings:
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        raise UserError(
            f"PLUGINS_CONFIG[{APP_NAME!r}] has unknown keys {unknown}: use {sorted(DEFAULTS)}"
        )
    environment = _environment(raw.get("environment"))
    checkpoint_url = raw.get("checkpoint_url") or default_checkpoint_url()
    return AiopsSettings(
        chat_session_ttl_minutes=_positive_int(raw, "chat_session_ttl_minutes"),
        checkpoint_url=checkpoint_url,
        request_timeout_seconds=_positive_int(raw, "request_timeout_seconds"),
        max_steps=_positive_int(raw, "max_steps"),
        environment=environment,
        security=parse_security_config(
            raw,
            environment=environment,
            redis_urls=(checkpoint_url, default_checkpoint_url()),
        ),
        usage_retention_days=_positive_int(raw, "usage_retention_days"),
        native_tools=parse_native_tools(
            raw.get("native_tools"), where=f"PLUGINS_CONFIG[{APP_NAME!r}]['native_tools']"
        ),
        tenancy=parse_tenancy(raw.get("tenancy"), where=f"PLUGINS_CONFIG[{APP_NAME!r}]['tenancy']"),
        opentelemetry=parse_telemetry(
            raw.get("opentelemetry"), where=f"PLUGINS_CONFIG[{APP_NAME!r}]['opentelemetry']"
        ),
    )


def _positive_int(raw: dict[str, Any], key: str) -> int:
    value = raw.get(key)
    if value is None:
        default: int = DEFAULTS[key]
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(
            f"PLUGINS_CONFIG[{APP_NAME!r}][{key!r}] must be a positive integer, got {value!r}"
        )
    return value


def _environment(configured: object) -> str:
    """``AIOPS_ENVIRONMENT`` wins over the config; the default is LAB (never the hostname)."""
    from_env = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    value = from_env or configured or EnvironmentChoices.LAB
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
