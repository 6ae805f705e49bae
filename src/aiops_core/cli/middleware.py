"""``aiops middleware``: show the resolved chain of a config file, list the middleware types."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..context import RunContext
from ..middleware import (
    build_chain,
    config_schema,
    get_middleware_type,
    list_middleware_types,
    resolve_specs,
)
from .config import load_config

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "middleware",
        help="inspect middleware: the resolved chain of a config, the available types",
        description="Inspect middleware configuration.",
    )
    sub = parser.add_subparsers(dest="middleware_command", metavar="SUBCOMMAND", required=True)

    show = sub.add_parser(
        "show",
        help="print the resolved chain of a config file (secrets masked)",
        description=(
            "Validate the [[middleware]] tables of a config file and print the chain in the order "
            "it runs: priority 1 is outermost, ties are ordered by type name. Secrets are masked."
        ),
    )
    show.add_argument("--config", metavar="FILE", required=True, help="TOML config file")
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(func=_show)

    types = sub.add_parser(
        "types",
        help="list middleware types and their config schemas",
        description=(
            "List the registered middleware types (built-ins and the 'aiops_core.middleware' "
            "entry-point group) with their config keys and defaults."
        ),
    )
    types.add_argument("name", nargs="?", help="show one type's full JSON Schema")
    types.add_argument("--json", action="store_true", help="print every type's JSON Schema")
    types.set_defaults(func=_types)


def _show(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    specs = config.middleware_specs()
    context = RunContext()
    chain = build_chain(resolve_specs(specs), context)
    inactive = [s.type_name for s in specs if not s.active]
    if args.json:
        print(
            json.dumps(
                {"chain": chain.describe(), "inactive": inactive, "warnings": context.warnings},
                indent=2,
            )
        )
        return 0
    print(chain.describe_text())
    if inactive:
        print(f"inactive: {', '.join(inactive)}")
    for warning in context.warnings:
        print(f"warning: {warning}")
    return 0


def _field_line(name: str, prop: dict[str, Any], required: bool, default: Any) -> str:
    kind = prop.get("type") or " | ".join(
        str(p.get("type", p.get("$ref", "?"))) for p in prop.get("anyOf", [])
    )
    if "enum" in prop:
        kind = " | ".join(json.dumps(v) for v in prop["enum"])
    shown = "(required)" if required else f"= {json.dumps(prop.get('default', default))}"
    description = f"  {prop['description']}" if prop.get("description") else ""
    return f"    {name}: {kind} {shown}{description}"


def _types(args: argparse.Namespace) -> int:
    if args.name:
        get_middleware_type(args.name)  # unknown names fail with a suggestion
        print(json.dumps(config_schema(args.name), indent=2))
        return 0
    types = list_middleware_types()
    if args.json:
        print(json.dumps({name: config_schema(name) for name in types}, indent=2))
        return 0
    for name, cls in types.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"{name}  ({cls.__module__}.{cls.__qualname__})")
        if doc:
            print(f"  {doc[0]}")
        schema = config_schema(name)
        required = set(schema.get("required", []))
        fields = cls.Config.model_fields
        for field, prop in schema.get("properties", {}).items():
            info = fields.get(field)
            default = info.get_default(call_default_factory=True) if info else None
            print(_field_line(field, prop, field in required, default))
    return 0
