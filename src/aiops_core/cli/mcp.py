"""``aiops mcp``: inspect and use the MCP servers of a config file.

- ``list``: connect to every server; state, tools, resources and prompts.
- ``check``: the health check (HTTP health endpoint or MCP ping).
- ``login SERVER`` / ``logout SERVER``: sign in with OAuth (browser, callback on 127.0.0.1) and
  keep the tokens in the token file; or forget them.
- ``resources [SERVER]``, ``read SERVER URI``: list and read resources.
- ``prompts [SERVER]``, ``prompt SERVER NAME [ARG=VALUE ...]``: list prompts, get one filled in.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextlib import AsyncExitStack

    from ..mcp import MCPClientPool, MCPServerConfig

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mcp",
        help="list, check, sign in to and use the MCP servers of a config file",
        description="Inspect and use the [[mcp_servers]] of a config file.",
    )
    sub = parser.add_subparsers(dest="mcp_command", metavar="SUBCOMMAND", required=True)

    listing = sub.add_parser(
        "list",
        help="connect to every server; show its state, tools, resources and prompts",
        description="Connect to every enabled server (concurrently) and show what it offers.",
    )
    _common(listing)
    listing.set_defaults(func=_sync(_list))

    check = sub.add_parser(
        "check",
        help="health-check every server once",
        description=(
            "Check every enabled server: GET {url}{health_check} for HTTP servers with a "
            "health path, an MCP ping otherwise. Exit status 1 when any server is unhealthy."
        ),
    )
    _common(check, startup=False)
    check.add_argument(
        "--timeout", type=float, default=5.0, metavar="S", help="seconds per check (default 5)"
    )
    check.set_defaults(func=_sync(_check))

    login = sub.add_parser(
        "login",
        help="sign in to an OAuth-protected server and keep its tokens",
        description=(
            "Sign in to SERVER with OAuth: open the printed URL in a browser; the browser comes "
            "back to the server's redirect_uri on 127.0.0.1. Tokens are kept in the token file "
            "($AIOPS_TOKEN_FILE, default ~/.config/aiops/mcp-tokens.json)."
        ),
    )
    _common(login, startup=False, json_flag=False)
    login.add_argument("server", help="the server's name")
    login.set_defaults(func=_sync(_login))

    logout = sub.add_parser("logout", help="forget a server's OAuth tokens")
    _common(logout, startup=False, json_flag=False)
    logout.add_argument("server", help="the server's name")
    logout.set_defaults(func=_sync(_logout))

    resources = sub.add_parser("resources", help="list the servers' resources")
    _common(resources)
    resources.add_argument("server", nargs="?", help="only this server")
    resources.set_defaults(func=_sync(_resources))

    read = sub.add_parser("read", help="read one resource")
    _common(read)
    read.add_argument("server", help="the server's name")
    read.add_argument("uri", help="the resource's URI")
    read.set_defaults(func=_sync(_read))

    prompts = sub.add_parser("prompts", help="list the servers' prompts")
    _common(prompts)
    prompts.add_argument("server", nargs="?", help="only this server")
    prompts.set_defaults(func=_sync(_prompts))

    prompt = sub.add_parser("prompt", help="get a prompt filled in with arguments")
    _common(prompt)
    prompt.add_argument("server", help="the server's name")
    prompt.add_argument("name", help="the prompt's name")
    prompt.add_argument("arguments", nargs="*", metavar="ARG=VALUE", help="prompt arguments")
    prompt.set_defaults(func=_sync(_prompt))


def _common(
    parser: argparse.ArgumentParser, *, startup: bool = True, json_flag: bool = True
) -> None:
    parser.add_argument(
        "--config", metavar="FILE", required=True, help="TOML config file with [[mcp_servers]]"
    )
    if json_flag:
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    if startup:
        parser.add_argument(
            "--startup-timeout",
            type=float,
            default=10.0,
            metavar="S",
            help="seconds for one server's handshake (default 10)",
        )


def _sync(func: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        import anyio

        return int(anyio.run(func, args))

    return run


def _configs(path: str, only: str | None = None) -> list[MCPServerConfig]:
    from ..errors import UserError
    from .config import load_config

    configs = load_config(path).mcp_server_configs()
    if not configs:
        raise UserError(f"Config file {path!r} has no [[mcp_servers]] entries")
    if only is None:
        return configs
    chosen = [c for c in configs if c.name == only]
    if not chosen:
        known = ", ".join(c.name for c in configs)
        raise UserError(f"No MCP server {only!r} in {path!r}; configured: {known}")
    return chosen


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


async def _pool(
    stack: AsyncExitStack, args: argparse.Namespace, only: str | None = None
) -> MCPClientPool:
    from ..mcp import MCPClientPool
    from ._mcp import pool_options

    # Listing and reading never ask the person anything: a server needing a sign-in says so.
    pool = MCPClientPool(
        _configs(args.config, only),
        startup_timeout=args.startup_timeout,
        ping_interval=None,
        **pool_options(interactive=False),
    )
    return await stack.enter_async_context(pool)


async def _list(args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        pool = await _pool(stack, args)
        tools = await pool.list_tools()
        resources = await pool.list_resources()
        prompts = await pool.list_prompts()
        status = pool.status()
    by_server: dict[str, list[str]] = {}
    for item in tools:
        by_server.setdefault(str(item.metadata.get("server")), []).append(item.name)
    counts = {s.name: (0, 0) for s in status}
    for r in resources:
        counts[r.server] = (counts[r.server][0] + 1, counts[r.server][1])
    for p in prompts:
        counts[p.server] = (counts[p.server][0], counts[p.server][1] + 1)
    if args.json:
        out: list[dict[str, Any]] = [
            {
                **s.as_dict(),
                "tools": by_server.get(s.name, []),
                "resources": [r.uri for r in resources if r.server == s.name],
                "prompts": [p.name for p in prompts if p.server == s.name],
            }
            for s in status
        ]
        print(json.dumps(out, indent=2))
    else:
        rows = [["SERVER", "TRANSPORT", "STATE", "TOOLS", "RESOURCES", "PROMPTS", "LAST ERROR"]]
        rows += [
            [
                s.name,
                s.transport,
                s.state.value,
                str(s.tool_count),
                str(counts[s.name][0]),
                str(counts[s.name][1]),
                s.last_error or "",
            ]
            for s in status
        ]
        print(_table(rows))
        for s in status:
            if by_server.get(s.name):
                print(f"\n{s.name}: {', '.join(sorted(by_server[s.name]))}")
    return 0 if all(s.state.value in ("healthy", "disabled") for s in status) else 1


async def _check(args: argparse.Namespace) -> int:
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


async def _login(args: argparse.Namespace) -> int:
    from ..errors import UserError
    from ..mcp import MCPClientPool
    from ._mcp import pool_options

    (config,) = _configs(args.config, args.server)
    if config.oauth is None:
        raise UserError(
            f"MCP server {config.name!r} has no [mcp_servers.oauth] settings; add them to sign in"
        )
    options = pool_options()
    for unused in ("elicitation", "sampling_approver"):  # only the sign-in is interactive here
        options.pop(unused)
    async with MCPClientPool([config], ping_interval=None, **options) as pool:
        session = pool.session(config.name)
        await session.first_attempt.wait()
        if not session.healthy:
            raise UserError(session.last_error or f"could not connect to {config.name!r}")
        tools = len(session.offered_tools())
    print(
        f"signed in to {config.name!r} ({tools} tools); tokens kept in {options['token_store'].path}"
    )
    return 0


async def _logout(args: argparse.Namespace) -> int:
    from ..mcp.tokens import FileTokenStore

    (config,) = _configs(args.config, args.server)
    store = FileTokenStore()
    known = await store.get(config.name) is not None
    await store.delete(config.name)
    print(
        f"forgot the tokens of {config.name!r}" if known else f"no tokens kept for {config.name!r}"
    )
    return 0


async def _resources(args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        pool = await _pool(stack, args, args.server)
        items = await pool.list_resources(args.server)
        templates = await pool.list_resource_templates(args.server)
    if args.json:
        print(
            json.dumps(
                {
                    "resources": [r.as_dict() for r in items],
                    "templates": [t.as_dict() for t in templates],
                },
                indent=2,
            )
        )
        return 0
    rows = [["SERVER", "URI", "NAME", "TYPE"]]
    rows += [[r.server, r.uri, r.title or r.name, r.mime_type or ""] for r in items]
    rows += [[t.server, t.uri_template, t.title or t.name, t.mime_type or ""] for t in templates]
    print(_table(rows))
    return 0


async def _read(args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    from ..messages import TextPart

    async with AsyncExitStack() as stack:
        pool = await _pool(stack, args, args.server)
        parts = await pool.read_resource(args.server, args.uri)
    if args.json:
        print(json.dumps([p.model_dump(mode="json") for p in parts], indent=2))
        return 0
    for part in parts:
        if isinstance(part, TextPart):
            print(part.text)
        else:
            print(f"[{part.type} content, {len(part.model_dump_json())} bytes as JSON]")
    return 0


async def _prompts(args: argparse.Namespace) -> int:

    from contextlib import AsyncExitStack

    async with AsyncExitStack() as stack:
        pool = await _pool(stack, args, args.server)
        items = await pool.list_prompts(args.server)
    if args.json:
        print(json.dumps([p.as_dict() for p in items], indent=2))
        return 0
    rows = [["SERVER", "PROMPT", "ARGUMENTS", "DESCRIPTION"]]
    rows += [
        [
            p.server,
            p.name,
            " ".join(a.name + ("" if a.required else "?") for a in p.arguments),
            p.description or "",
        ]
        for p in items
    ]
    print(_table(rows))
    return 0


async def _prompt(args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    from ..errors import UserError

    values: dict[str, str] = {}
    for item in args.arguments:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"Prompt arguments are ARG=VALUE, got {item!r}")
        values[key] = value
    async with AsyncExitStack() as stack:
        pool = await _pool(stack, args, args.server)
        result = await pool.get_prompt(args.server, args.name, values)
    if args.json:
        print(
            json.dumps(
                {
                    "description": result.description,
                    "messages": [m.model_dump(mode="json") for m in result.messages],
                },
                indent=2,
            )
        )
    else:
        print(result.text)
    return 0
