"""``aiops middleware``: show the resolved chain of a config file, list the middleware types."""

from __future__ import annotations

import argparse
import json

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
    from ..context import RunContext
    from ..middleware import build_chain, resolve_specs
    from ._fields import config_rows
    from ._term import format_table
    from .config import load_config

    term = args.term
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
    if not chain.entries:
        print("(no middleware)")
    else:
        print("Runs in this order around every model and tool call (1 = outermost); * = changed")
    for order, (resolved, _) in enumerate(chain.entries, 1):
        spec = resolved.spec
        critical = "critical" if spec.critical else "not critical"
        print()
        print(
            term.style(f"{order}. {resolved.name}", "bold")
            + f"  priority {spec.priority}, {critical}"
        )
        rows = config_rows(type(resolved.config), resolved.config.masked())
        table = format_table(("KEY", "VALUE", "DEFAULT", "DESCRIPTION"), rows, term.style)
        print("\n".join(f"   {line}" for line in table.splitlines()))
    if inactive:
        print(f"\ninactive: {', '.join(inactive)}")
    for warning in context.warnings:
        term.warn(warning)
    return 0


def _types(args: argparse.Namespace) -> int:
    from ..middleware import config_schema, get_middleware_type, list_middleware_types
    from ._fields import config_rows
    from ._term import format_table

    term = args.term
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
        print(term.style(name, "bold") + f"  ({cls.__module__}.{cls.__qualname__})")
        if doc:
            print(f"   {doc[0]}")
        rows = config_rows(cls.Config)
        if rows:
            table = format_table(("KEY", "TYPE", "DEFAULT", "DESCRIPTION"), rows, term.style)
            print("\n".join(f"   {line}" for line in table.splitlines()))
        print()
    return 0
