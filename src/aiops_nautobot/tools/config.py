"""The ``native_tools`` key of ``PLUGINS_CONFIG["aiops_nautobot"]``: on/off and the limits."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from aiops_core.errors import UserError

__all__ = ["NATIVE_TOOLS_DEFAULTS", "NativeToolsConfig", "parse_native_tools"]

NATIVE_TOOLS_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "writes": False,
    "max_rows": 50,
    "max_result_chars": 12_000,
    "timeout_seconds": 30,
    "graphql_max_depth": 6,
    "graphql_max_complexity": 2_000,
    "workers": 4,
}
"""Every key of ``native_tools`` and its default."""


@dataclass(frozen=True, slots=True)
class NativeToolsConfig:
    """The limits of the Nautobot-native toolset.

    Attributes:
        enabled: offer the native tools to the model at all.
        writes: offer the change-set tools (off by default, like the Apply change set Job they
            use; writes always need a person's approval).
        max_rows: most objects one search, list or GraphQL list field returns.
        max_result_chars: longest tool result; longer ones end with a truncation marker.
        timeout_seconds: tool timeout, also PostgreSQL's ``statement_timeout`` of its queries.
        graphql_max_depth: deepest nesting of a GraphQL selection.
        graphql_max_complexity: most fields a GraphQL query may resolve (lists multiply).
        workers: ORM worker threads per process (the tools' calls run in parallel up to this).
    """

    enabled: bool = True
    writes: bool = False
    max_rows: int = 50
    max_result_chars: int = 12_000
    timeout_seconds: int = 30
    graphql_max_depth: int = 6
    graphql_max_complexity: int = 2_000
    workers: int = 4


def parse_native_tools(value: object, *, where: str) -> NativeToolsConfig:
    """``native_tools`` as configured: ``None`` (defaults), a bool, or a dict of the keys above.

    Raises:
        UserError: an unknown key or a value of the wrong type; the message names it.
    """
    if value is None:
        return NativeToolsConfig()
    if isinstance(value, bool):
        return NativeToolsConfig(enabled=value)
    if not isinstance(value, dict):
        raise UserError(f"{where} must be true, false or a dict of {sorted(NATIVE_TOOLS_DEFAULTS)}")
    unknown = sorted(set(value) - set(NATIVE_TOOLS_DEFAULTS))
    if unknown:
        raise UserError(f"{where} has unknown keys {unknown}: use {sorted(NATIVE_TOOLS_DEFAULTS)}")
    values: dict[str, Any] = {}
    for item in fields(NativeToolsConfig):
        raw = value.get(item.name, NATIVE_TOOLS_DEFAULTS[item.name])
        expected = type(NATIVE_TOOLS_DEFAULTS[item.name])
        if expected is bool:
            if not isinstance(raw, bool):
                raise UserError(f"{where}[{item.name!r}] must be true or false, got {raw!r}")
        elif isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
            raise UserError(f"{where}[{item.name!r}] must be a positive integer, got {raw!r}")
        values[item.name] = raw
    return NativeToolsConfig(**values)
