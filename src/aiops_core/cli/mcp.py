"""``aiops mcp``: inspect the MCP servers of a config file.

``aiops mcp list --config FILE`` connects to every server and shows its state and tools;
``aiops mcp check --config FILE`` runs the health check (HTTP health endpoint or MCP ping).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..mcp import MCPServerConfig

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mcp",
        help="list and health-check the MCP servers of a config file",
        description="Inspect the [[mcp_servers]] of a config file.",
    )
    sub = parser.add_subparsers(dest="mcp_command", metavar="SUBCOMMAND", required=True)

    listing = sub.add_parser(
        "list",
        help="connect to every server; show its state and tools",
        description="Connect to every enabled server (concurrently) and show state and tools.",
    )
    _common(listing)
    listing.add_argument(
        "--startup-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds for one server's handshake (default 10)",
    )
    listing.set_defaults(func=_list)

    check = sub.add_parser(
        "check",
        help="health-check every server once",
        description=(
            "Check every enabled server: GET {url}{health_check} for HTTP servers with a "
            "health path, an MCP ping otherwise. Exit status 1 when any server is unhealthy."
        ),
    )
    _common(check)
    check.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="seconds per check (default 5)"
    )
    check.set_defaults(func=_check)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", metavar="FILE", required=True, help="TOML config file with [[mcp_servers]]"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _configs(path: str) -> list[MCPServerConfig]:
    from ..errors import UserError
    from .config import load_config

    configs = load_config(path).mcp_server_configs()
    if not configs:
        raise UserError(f"Config file {path!r} has no [[mcp_servers]] entries")
    return configs


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _list(args: argparse.Namespace) -> int:
    import anyio

    return anyio.run(_list_async, args)


async def _list_async(args: argparse.Namespace) -> int:
    from ..mcp import MCPClientPool

    configs = _configs(args.config)
    async with MCPClientPool(configs, startup_timeout=args.startup_timeout) as pool:
        tools = await pool.list_tools()
        status = pool.status()
    by_server: dict[str, list[str]] = {}
    for item in tools:
        by_server.setdefault(item.metadata["server"], []).append(item.name)
    if args.json:
        out: list[dict[str, Any]] = [
            {**s.as_dict(), "tools": by_server.get(s.name, [])} for s in status
        ]
        print(json.dumps(out, indent=2))
    else:
        rows = [["SERVER", "TRANSPORT", "STATE", "TOOLS", "LAST ERROR"]]
        rows += [
            [s.name, s.transport, s.state.value, str(s.tool_count), s.last_error or ""]
            for s in status
        ]
        print(_table(rows))
        for s in status:
            if by_server.get(s.name):
                print(f"\n{s.name}: {', '.join(sorted(by_server[s.name]))}")
    return 0 if all(s.state.value in ("healthy", "disabled") for s in status) else 1


def _check(args: argparse.Namespace) -> int:
    import anyio

    return anyio.run(_check_async, args)


async def _check_async(args: argparse.Namespace) -> int:
    from ..mcp import check_health

    summary = await check_health(_configs(args.config), probe_timeout=args.timeout)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        rows = [["SERVER", "STATUS", "ERROR"]]
        rows += [[r.name, r.status, r.error or ""] for r in summary.results]
        print(_table(rows))
        print(f"\nchecked {summary.checked}, unhealthy {summary.failed}")
    return 1 if summary.failed else 0
