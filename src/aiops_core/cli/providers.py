"""``aiops providers``: list the model provider handlers, their SDKs and config schemas."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]

_DESCRIPTION = """\
List the model provider handlers: name, whether the SDK is installed, and the config keys
accepted in [model_options] of the config file (or as get_chat_model keyword arguments).
Use a model as "provider:model", e.g. "openai:gpt-4o-mini" or "ollama:llama3.2".
'aiops providers NAME' shows one handler's keys with types, defaults and descriptions, and
the environment variables it reads.
"""

# Variables the built-in handlers (or their SDKs) read besides the API key (``api_key_env``).
_ENVIRONMENT: dict[str, dict[str, str]] = {
    "openai": {"OPENAI_BASE_URL": "base URL when base_url is not set"},
    "azure_openai": {
        "AZURE_OPENAI_ENDPOINT": "endpoint when endpoint is not set",
        "OPENAI_API_VERSION": "API version when api_version is not set",
    },
    "ollama": {"OLLAMA_HOST": "server when base_url is not set (default http://127.0.0.1:11434)"},
}


def register(subparsers: Any) -> None:
    """Add the ``providers`` command to the ``aiops`` parser."""
    parser = subparsers.add_parser(
        "providers",
        help="list model provider handlers and their config keys",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", nargs="?", help="show this provider's keys, defaults and variables")
    parser.add_argument(
        "--json", action="store_true", help="print each handler's config as JSON Schema"
    )
    parser.set_defaults(func=run)


def _environment(handler: Any) -> list[tuple[str, str]]:
    rows = []
    if handler.api_key_env:
        rows.append((handler.api_key_env, "API key when api_key is not given"))
    rows.extend(_ENVIRONMENT.get(handler.name, {}).items())
    return rows


def _one(args: argparse.Namespace, name: str) -> int:
    from ..providers import get_provider
    from ._fields import config_rows

    term = args.term
    handler = get_provider(name)  # unknown names fail with a suggestion
    installed = handler.sdk_installed()
    out = term.out
    out.write(term.style(f"provider {name}", "bold") + f"  (model: {name}:<model>)\n")
    if handler.sdk:
        state = (
            "installed" if installed else f"missing: pip install 'aiops[{handler.extra or name}]'"
        )
        out.write(f"SDK       {handler.sdk} ({state})\n")
    environment = _environment(handler)
    if environment:
        out.write("\n")
        term.table(("ENVIRONMENT VARIABLE", "USED FOR"), environment)
    out.write("\n")
    rows = config_rows(handler.Config)
    if rows:
        term.table(("KEY ([model_options])", "TYPE", "DEFAULT", "DESCRIPTION"), rows)
    else:
        out.write("no config keys\n")
    return 0


def run(args: argparse.Namespace) -> int:
    """List the handlers (the ``providers`` command)."""
    from ..providers import list_providers

    if args.name and not args.json:
        return _one(args, args.name)
    rows = list_providers()
    if args.name:
        from ..errors import UnknownNameError

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
    table = [
        (
            row.name,
            row.sdk or "-",
            "yes" if row.installed else "no",
            ", ".join(row.config_schema.get("properties", {})) or "-",
        )
        for row in rows
    ]
    args.term.table(("PROVIDER", "SDK", "INSTALLED", "CONFIG KEYS"), table)
    return 0
