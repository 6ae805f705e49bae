"""Registry of middleware types keyed by name.

Built-ins are lazy import paths; third parties register in code with
:func:`register_middleware` or through the entry-point group ``aiops_core.middleware``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from .._registry import Registry
from ..errors import RegistryLoadError, UserError, format_validation_error
from .base import Middleware, MiddlewareConfig, MiddlewareSpec

__all__ = [
    "MiddlewareLoadError",
    "config_schema",
    "get_middleware_type",
    "list_middleware_types",
    "middleware_registry",
    "middleware_type_names",
    "parse_middleware_config",
    "register_middleware",
]

ENTRY_POINT_GROUP = "aiops_core.middleware"


class MiddlewareLoadError(RegistryLoadError):
    """A registered middleware type cannot be imported (its package or a dependency is missing).

    An :class:`ImportError` too, so callers that skip unloadable entries keep working.
    """


middleware_registry: Registry[Middleware] = Registry(
    "middleware type",
    base=Middleware,
    group=ENTRY_POINT_GROUP,
    builtins={
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
    },
    load_error=MiddlewareLoadError,
)
"""Middleware types by name: built-ins, the ``aiops_core.middleware`` entry points, and
:func:`register_middleware` (tests: ``with middleware_registry.override({...}):``)."""


def register_middleware(name: str, cls: type[Middleware] | str) -> None:
    """Register a :class:`Middleware` subclass (or ``"module:Class"``) under ``name``."""
    middleware_registry.register(name, cls)


def get_middleware_type(name_or_cls: str | type[Middleware]) -> type[Middleware]:
    """The middleware class for a registry name (classes are returned as they are).

    Raises:
        UnknownNameError: no such type (the message suggests the closest).
        MiddlewareLoadError: the type's module cannot be imported.
        UserError: the value is not a :class:`Middleware` subclass.
    """
    if isinstance(name_or_cls, str):
        return middleware_registry.get(name_or_cls)
    if not (isinstance(name_or_cls, type) and issubclass(name_or_cls, Middleware)):
        raise UserError(f"{name_or_cls!r} is not a Middleware subclass")
    return name_or_cls


def middleware_type_names() -> list[str]:
    """Names of every registered middleware type, without importing any of them."""
    return middleware_registry.names()


def list_middleware_types() -> dict[str, type[Middleware]]:
    """Every registered middleware type by name."""
    return middleware_registry.load_all()


def config_schema(name_or_cls: str | type[Middleware]) -> dict[str, Any]:
    """JSON Schema of a middleware type's config (defaults included)."""
    schema: dict[str, Any] = get_middleware_type(name_or_cls).Config.model_json_schema()
    return schema


def parse_middleware_config(spec: MiddlewareSpec) -> tuple[type[Middleware], MiddlewareConfig]:
    """Resolve a spec's type and validate its config, naming every bad field on error."""
    cls = get_middleware_type(spec.type)
    try:
        config = cls.Config.model_validate(dict(spec.config))
    except ValidationError as err:
        problems = format_validation_error(err, root="config")
        raise UserError(f"Middleware {spec.type_name!r}: invalid config {problems}") from None
    return cls, config
