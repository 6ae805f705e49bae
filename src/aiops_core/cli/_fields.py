"""Rows that describe a pydantic config class: key, type, default, description (and a value)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["config_rows", "type_text"]


def type_text(prop: Mapping[str, Any]) -> str:
    """A short type for a JSON-schema property: ``number``, ``"memory" | "redis"``, ``string?``."""
    if "enum" in prop:
        return " | ".join(json.dumps(v) for v in prop["enum"])
    if "const" in prop:
        return json.dumps(prop["const"])
    if "$ref" in prop:  # a nested settings object (anthropic's thinking)
        return "table"
    if "anyOf" in prop:
        kinds = [type_text(p) for p in prop["anyOf"]]
        optional = "null" in kinds
        text = " | ".join(k for k in kinds if k != "null") or "null"
        return f"{text}?" if optional and " " not in text else text
    kind = prop.get("type")
    if kind == "array":
        return f"list[{type_text(prop.get('items', {})) or 'any'}]"
    if kind == "object":
        return "table"
    return str(kind or "any")


def _show(value: Any) -> str:
    return json.dumps(value, default=str) if value is not None else "-"


def config_rows(config_cls: Any, values: Mapping[str, Any] | None = None) -> list[tuple[str, ...]]:
    """One row per config key: (key, type, default, description) or, with ``values``,
    (key, value, default, description) where a changed value is marked ``*``."""
    schema = config_cls.model_json_schema()
    required = set(schema.get("required", []))
    rows: list[tuple[str, ...]] = []
    for name, prop in schema.get("properties", {}).items():
        info = config_cls.model_fields.get(name)
        if name in required:
            default = "(required)"
        else:
            value = info.get_default(call_default_factory=True) if info else prop.get("default")
            default = _show(value)
        description = str(prop.get("description") or "")
        if values is None:
            rows.append((name, type_text(prop), default, description))
        else:
            current = _show(values.get(name))
            mark = " *" if current != default else ""
            rows.append((name, current + mark, default, description))
    return rows
