"""The middleware onion: base class, specs, registry and chain builder.

Built-in middleware types live in their own modules and load when first resolved by name.
"""

from __future__ import annotations

from .base import Middleware, MiddlewareConfig, MiddlewareSpec, response_events
from .chain import MiddlewareChain, ResolvedSpec, build_chain, resolve_specs
from .registry import (
    MiddlewareLoadError,
    config_schema,
    get_middleware_type,
    list_middleware_types,
    middleware_registry,
    middleware_type_names,
    parse_middleware_config,
    register_middleware,
)

__all__ = [
    "Middleware",
    "MiddlewareChain",
    "MiddlewareConfig",
    "MiddlewareLoadError",
    "MiddlewareSpec",
    "ResolvedSpec",
    "build_chain",
    "config_schema",
    "get_middleware_type",
    "list_middleware_types",
    "middleware_registry",
    "middleware_type_names",
    "parse_middleware_config",
    "register_middleware",
    "resolve_specs",
    "response_events",
]
