"""Registry of middleware types keyed by name.

Built-ins are lazy import paths; third parties register in code with
:func:`register_middleware` or through the entry-point group ``aiops_core.middleware``.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from ..errors import UnknownNameError, UserError
from .base import Middleware, MiddlewareConfig, MiddlewareSpec

__all__ = [
    "MiddlewareLoadError",
    "config_schema",
    "get_middleware_type",
    "list_middleware_types",
    "middleware_type_names",
    "parse_middleware_config",
    "register_middleware",
]

ENTRY_POINT_GROUP = "aiops_core.middleware"


class MiddlewareLoadError(UserError, ImportError):
    """A registered middleware type cannot be imported (its package or a dependency is missing).

    An :class:`ImportError` too, so callers that skip unloadable entries keep working.
    """


_BUILTIN: dict[str, str] = {
    name: f"aiops_core.middleware.{module}:{cls}"
    for name, module, cls in [
        ("logging", "logging", "LoggingMiddleware"),
        ("cache", "cache", "CacheMiddleware"),
        ("retry", "retry", "RetryMiddleware"),
        ("validation", "validation", "ValidationMiddleware"),
        ("prompt_injection", "prompt_injection", "PromptInjectionMiddleware"),
        ("pii_redaction", "pii_redaction", "PIIRedactionMiddleware"),
        ("summarization", "summarization", "SummarizationMiddleware"),
        ("model_call_limit", "call_limits", "ModelCallLimitMiddleware"),
        ("tool_call_limit", "call_limits", "ToolCallLimitMiddleware"),
        ("model_fallback", "fallback", "ModelFallbackMiddleware"),
        ("timeout", "timeout", "TimeoutMiddleware"),
        ("rate_limit", "rate_limit", "RateLimitMiddleware"),
        ("tool_approval", "tool_approval", "ToolApprovalMiddleware"),
    ]
}
_registered: dict[str, type[Middleware] | str] = {}
_entry_points_loaded = False


def _known() -> dict[str, type[Middleware] | str]:
    global _entry_points_loaded
    if not _entry_points_loaded:
        _entry_points_loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            _registered.setdefault(ep.name, ep.value)
    return {**_BUILTIN, **_registered}


def register_middleware(name: str, cls: type[Middleware] | str) -> None:
    """Register a :class:`Middleware` subclass (or ``"module:Class"``) under ``name``."""
    if not name:
        raise UserError("Middleware name must not be empty")
    _registered[name] = cls


def get_middleware_type(name_or_cls: str | type[Middleware]) -> type[Middleware]:
    """The middleware class for a registry name (classes are returned as they are)."""
    if not isinstance(name_or_cls, str):
        if not (isinstance(name_or_cls, type) and issubclass(name_or_cls, Middleware)):
            raise UserError(f"{name_or_cls!r} is not a Middleware subclass")
        return name_or_cls
    known = _known()
    if name_or_cls not in known:
        raise UnknownNameError("middleware type", name_or_cls, known)
    entry = known[name_or_cls]
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        try:
            entry = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise MiddlewareLoadError(
                f"Middleware type {name_or_cls!r} cannot be loaded from {module}:{attr} ({err}); "
                "check the package that registers it is installed"
            ) from err
    if not (isinstance(entry, type) and issubclass(entry, Middleware)):
        raise UserError(
            f"Middleware type {name_or_cls!r} is registered as {entry!r}, not a Middleware subclass"
        )
    return entry


def middleware_type_names() -> list[str]:
    """Names of every registered middleware type, without importing any of them."""
    return sorted(_known())


def list_middleware_types() -> dict[str, type[Middleware]]:
    """Every registered middleware type by name."""
    return {name: get_middleware_type(name) for name in sorted(_known())}


def config_schema(name_or_cls: str | type[Middleware]) -> dict[str, Any]:
    """JSON Schema of a middleware type's config (defaults included)."""
    schema: dict[str, Any] = get_middleware_type(name_or_cls).Config.model_json_schema()
    return schema


def parse_middleware_config(spec: MiddlewareSpec) -> tuple[type[Middleware], MiddlewareConfig]:
    """Resolve a spec's type and validate its config, naming the bad field on error."""
    cls = get_middleware_type(spec.type)
    try:
        config = cls.Config.model_validate(dict(spec.config))
    except ValidationError as err:
        item = err.errors()[0]
        where = ".".join(str(p) for p in item["loc"]) or "config"
        why = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        raise UserError(f"Middleware {spec.type_name!r}: invalid config {where}: {why}") from None
    return cls, config


def masked_config(config: MiddlewareConfig) -> dict[str, Any]:
    """The config as a dict with secret-looking values masked."""
    masked: dict[str, Any] = _mask(config.model_dump(mode="json"))
    return masked


# A field is secret when one of its name's words is one of these ("api_key", "auth_token",
# "password"); "key_prefix" or "max_tokens" are not.
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:password|passwd|secret|credentials?|token|api_?key|access_?key|private_?key|auth)"
    r"(?:$|_)"
)


def _mask(value: Any, key: str = "") -> Any:
    if isinstance(value, Mapping):
        return {k: _mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, key) for v in value]
    if value and isinstance(value, str) and _SECRET_NAME.search(key.lower()):
        return "***"
    if isinstance(value, str) and "://" in value and "@" in value:
        scheme, _, rest = value.partition("://")
        return f"{scheme}://***@{rest.rsplit('@', 1)[-1]}"
    return value
