"""``aiops providers``: list the model provider handlers, their SDKs and config schemas."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import UnknownNameError

__all__ = ["register"]

_DESCRIPTION = """\
List the model provider handlers: name, whether the SDK is installed, and the config keys
accepted in [model_options] of the config file (or as get_chat_model keyword arguments).
Use a model as "provider:model", e.g. "openai:gpt-4o-mini" or "ollama:llama3.2".
"""


def register(subparsers: Any) -> None:
    """Add the ``providers`` command to the ``aiops`` parser."""
    parser = subparsers.add_parser(
        "providers",
        help="list model provider handlers and their config keys",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", help="show only this provider")
    parser.add_argument(
        "--json", action="store_true", help="print each handler's config as JSON Schema"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """List the handlers (the ``providers`` command); one named handler with its keys."""
    from ..providers import list_providers

    rows = list_providers()
    if args.name:
        rows = [row for row in rows if row.name == args.name]
        if not rows:
            raise UnknownNameError("provider", args.name, [row.name for row in list_providers()])
    if args.json:
        data = {
            row.name: {
                "sdk": row.sdk,
                "installed": row.installed,
                "config_schema": row.config_schema,
            }
            for row in rows
        }
        print(json.dumps(data, indent=2, sort_keys=True))
        return 0
    table = [("PROVIDER", "SDK", "INSTALLED", "CONFIG KEYS")]
    for row in rows:
        keys = ", ".join(row.config_schema.get("properties", {})) or "-"
        table.append((row.name, row.sdk or "-", "yes" if row.installed else "no", keys))
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(line[:3], widths, strict=True)),
            line[3],
        )
    if args.name:
        print()
        print("\n".join(_key_lines(rows[0].config_schema)))
    return 0


def _type_of(schema: dict[str, Any]) -> str:
    """A short type description of one JSON Schema property (``null`` left out)."""
    options = schema.get("anyOf", [schema])
    kinds: list[str] = []
    for option in options:
        if "enum" in option:
            kinds.append(" | ".join(str(v) for v in option["enum"]))
        elif "$ref" in option:
            kinds.append("object")
        elif option.get("type") not in (None, "null"):
            kinds.append(str(option["type"]))
    return " | ".join(kinds) or "any"


def _key_lines(schema: dict[str, Any]) -> list[str]:
    """One line per config key: name, type, default (when set) and description."""
    properties: dict[str, dict[str, Any]] = schema.get("properties", {})
    width = max((len(key) for key in properties), default=0)
    lines = []
    for key, prop in properties.items():
        default = prop.get("default")
        shown = f" (default {json.dumps(default)})" if default not in (None, {}, []) else ""
        about = prop.get("description", "")
        lines.append(f"  {key.ljust(width)}  {_type_of(prop)}{shown}  {about}".rstrip())
    return lines
