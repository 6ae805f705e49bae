"""``aiops threads``: list, show, delete and prune stored conversations.

The store comes from ``--store URL``, else the ``store`` key of ``--config FILE``, else the
``AIOPS_STORE`` environment variable, else :func:`~aiops_core.checkpoint.url.default_store_url`
(a SQLite file in the user's data directory).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import anyio

from ..checkpoint.base import CheckpointStore, ThreadInfo
from ..errors import UserError
from ..messages import AssistantMessage, Message, ToolResultMessage, UserMessage, content_text

__all__ = ["parse_duration", "register", "resolve_store_url"]

T = TypeVar("T")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``aiops threads`` and its subcommands."""
    parser = subparsers.add_parser(
        "threads",
        help="list, show, delete and prune stored conversations",
        description=(
            "Manage stored conversations. The store is --store URL, else the config file's "
            "'store', else $AIOPS_STORE, else sqlite:///$XDG_DATA_HOME/aiops/threads.db "
            "(XDG_DATA_HOME defaults to ~/.local/share)."
        ),
    )
    parser.set_defaults(func=lambda args: _help(parser))
    commands = parser.add_subparsers(dest="threads_command", metavar="SUBCOMMAND")

    def add(name: str, help_text: str, handler: Callable[[argparse.Namespace], int]) -> Any:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument(
            "--store", metavar="URL", help="store URL, e.g. sqlite:///aiops.db or redis://host/2"
        )
        sub.add_argument("--config", metavar="FILE", help="TOML config file whose 'store' to use")
        sub.set_defaults(func=handler)
        return sub

    listing = add("list", "list threads, newest first", _list)
    listing.add_argument("--owner", metavar="USER", help="only this owner's threads")
    listing.add_argument("--limit", type=int, default=20, metavar="N", help="threads per page")
    listing.add_argument("--cursor", metavar="C", help="continue after a previous page")
    listing.add_argument("--json", action="store_true", help="one JSON object per thread")

    show = add("show", "print a thread's messages", _show)
    show.add_argument("thread_id", metavar="THREAD", help="thread id")
    show.add_argument("--owner", metavar="USER", help="refuse threads of another owner")
    show.add_argument("--json", action="store_true", help="print the thread as JSON")

    delete = add("delete", "delete a thread", _delete)
    delete.add_argument("thread_id", metavar="THREAD", help="thread id")
    delete.add_argument("--owner", metavar="USER", help="refuse threads of another owner")

    prune = add("prune", "delete threads idle for longer than a duration", _prune)
    prune.add_argument(
        "--older-than",
        required=True,
        type=parse_duration,
        metavar="AGE",
        help="idle time such as 90s, 15m, 12h, 30d or 2w",
    )


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``12h``, ``30d``, ``2w`` (or plain seconds) as a timedelta."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}; use a number with s, m, h, d or w, such as 30d"
        )
    return timedelta(seconds=float(match[1]) * _UNITS[match[2] or "s"])


def resolve_store_url(args: argparse.Namespace) -> str:
    """The store URL the command uses (see the module docstring for the order)."""
    from ..checkpoint.url import default_store_url

    if getattr(args, "store", None):
        return str(args.store)
    if getattr(args, "config", None):
        from .config import load_config

        configured = load_config(args.config).store
        if configured:
            return configured
    return os.environ.get("AIOPS_STORE") or default_store_url()


def _with_store(args: argparse.Namespace, work: Callable[[CheckpointStore], Awaitable[T]]) -> T:
    from ..checkpoint.url import open_store

    url = resolve_store_url(args)

    async def main() -> T:
        store = open_store(url)
        try:
            return await work(store)
        finally:
            await store.aclose()

    return anyio.run(main)


def _info_json(info: ThreadInfo) -> dict[str, Any]:
    return {
        "thread_id": info.thread_id,
        "owner": info.owner,
        "title": info.title,
        "model": info.model,
        "created_at": info.created_at.isoformat(),
        "updated_at": info.updated_at.isoformat(),
        "message_count": info.message_count,
        "metadata": info.metadata,
    }


def _when(info: ThreadInfo) -> str:
    return info.updated_at.strftime("%Y-%m-%d %H:%M:%S")


def _list(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    page = _with_store(
        args, lambda s: s.list_threads(owner=args.owner, limit=args.limit, cursor=args.cursor)
    )
    if args.json:
        for info in page.threads:
            print(json.dumps(_info_json(info), default=str))
    elif not page.threads:
        print("no threads")
    else:
        rows = [
            (i.thread_id, i.owner or "-", str(i.message_count), _when(i), i.title or "")
            for i in page.threads
        ]
        header = ("THREAD", "OWNER", "MESSAGES", "UPDATED (UTC)", "TITLE")
        widths = [max(len(r[c]) for r in [header, *rows]) for c in range(4)]
        for row in [header, *rows]:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            print("  ".join([*cells, row[4]]).rstrip())
    if page.next_cursor:
        print(f"more: --cursor {page.next_cursor}", file=sys.stderr)
    return 0


def _render(message: Message) -> str:
    if isinstance(message, AssistantMessage):
        calls = [f"  -> {c.name}({json.dumps(c.arguments)})" for c in message.tool_calls]
        return "\n".join([f"assistant: {message.content}".rstrip(), *calls])
    if isinstance(message, ToolResultMessage):
        flag = " (error)" if message.is_error else ""
        return f"tool {message.name or message.tool_call_id}{flag}: {content_text(message.content)}"
    if isinstance(message, UserMessage):
        return f"user: {content_text(message.content)}"
    return f"system: {message.content}"


def _show(args: argparse.Namespace) -> int:
    thread = _with_store(args, lambda s: s.load(args.thread_id, owner=args.owner))
    if thread is None:
        raise UserError(f"No thread {args.thread_id!r} in the store; see 'aiops threads list'")
    if args.json:
        body = {
            **_info_json(thread.info),
            "messages": [m.model_dump(mode="json") for m in thread.messages],
        }
        print(json.dumps(body, indent=2, default=str))
        return 0
    info = thread.info
    print(f"thread {info.thread_id}  owner {info.owner or '-'}  model {info.model or '-'}")
    print(f"title  {info.title or '-'}")
    print(f"{info.message_count} messages, updated {_when(info)} UTC")
    if "pending_approval" in info.metadata:
        print("tool calls await approval")
    print()
    for message in thread.messages:
        print(_render(message))
    return 0


def _delete(args: argparse.Namespace) -> int:
    deleted = _with_store(args, lambda s: s.delete(args.thread_id, owner=args.owner))
    if not deleted:
        print(f"no thread {args.thread_id!r}", file=sys.stderr)
        return 1
    print(f"deleted thread {args.thread_id!r}")
    return 0


def _prune(args: argparse.Namespace) -> int:
    count = _with_store(args, lambda s: s.prune(args.older_than))
    print(f"pruned {count} thread{'s' if count != 1 else ''} idle for more than {args.older_than}")
    return 0
