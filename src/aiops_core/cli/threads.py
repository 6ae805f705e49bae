"""``aiops threads``: list, show, delete and prune stored conversations.

The store comes from ``--store URL``, else the ``store`` key of ``--config FILE``, else the
``AIOPS_STORE`` environment variable, else :func:`~aiops_core.checkpoint.url.default_store_url`
(a SQLite file in the user's data directory).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import ExitCode
from ._session import add_agent_arguments

if TYPE_CHECKING:
    from ..checkpoint.base import CheckpointStore, ThreadInfo
    from ..messages import Message

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
        help="idle time such as 90s, 15m, 12h, 30d or 2w (more than 0)",
    )
    prune.add_argument(
        "--dry-run", action="store_true", help="list the threads that would go; delete nothing"
    )
    prune.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="do not ask for confirmation (needed when not on a terminal)",
    )

    for name, verb, other in (("approve", "approve", "reject"), ("reject", "reject", "approve")):
        decide = commands.add_parser(
            name,
            help=f"{verb} tool calls of a paused thread and continue it",
            description=(
                f"{verb.capitalize()} tool calls that the tool_approval middleware paused, then "
                "continue the thread's run. Every pending call needs a decision: list the calls "
                f"to {verb} (all of them when none are listed) and add --{other}-rest for the "
                "others. Pass the flags of the paused run again (--config, --tools) so the "
                "approved calls can run; the model defaults to the thread's. Exit status 3 when "
                "the run pauses again."
            ),
        )
        decide.add_argument("thread_id", metavar="THREAD", help="thread id")
        decide.add_argument("call_ids", nargs="*", metavar="CALL_ID", help="pending call ids")
        decide.add_argument(
            f"--{other}-rest", action="store_true", help=f"{other} the calls not listed"
        )
        decide.add_argument("--user", metavar="NAME", help="owner of the thread")
        if name == "reject":
            decide.add_argument(
                "--reason", metavar="TEXT", help="why (the model sees it in the tool error)"
            )
        add_agent_arguments(decide)
        decide.set_defaults(func=_decide, approving=name == "approve")


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``12h``, ``30d``, ``2w`` (or plain seconds) as a timedelta (> 0)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not match:
        raise argparse.ArgumentTypeError(
            f"invalid duration {text!r}; use a number with s, m, h, d or w, such as 30d"
        )
    age = timedelta(seconds=float(match[1]) * _UNITS[match[2] or "s"])
    if age <= timedelta(0):
        raise argparse.ArgumentTypeError(
            f"{text!r} would match every thread; give an idle time of more than 0, such as 30d"
        )
    return age


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
    return default_store_url()


def _with_store(args: argparse.Namespace, work: Callable[[CheckpointStore], Awaitable[T]]) -> T:
    import anyio

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


def _title(info: ThreadInfo) -> str:
    from ._approval import PENDING_KEY

    flag = "[awaiting approval] " if info.metadata.get(PENDING_KEY) else ""
    return flag + (info.title or "")


def _list(args: argparse.Namespace) -> int:
    from ..errors import UserError

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
            (i.thread_id, i.owner or "-", str(i.message_count), _when(i), _title(i))
            for i in page.threads
        ]
        args.term.table(("THREAD", "OWNER", "MESSAGES", "UPDATED (UTC)", "TITLE"), rows)
    if page.next_cursor:
        print(f"more: --cursor {page.next_cursor}", file=sys.stderr)
    return 0


def _render(message: Message) -> str:
    from ..messages import AssistantMessage, ToolResultMessage, UserMessage, content_text

    if isinstance(message, AssistantMessage):
        calls = [f"  -> {c.name}({json.dumps(c.arguments)})" for c in message.tool_calls]
        return "\n".join([f"assistant: {message.content}".rstrip(), *calls])
    if isinstance(message, ToolResultMessage):
        flag = " (error)" if message.is_error else ""
        return f"tool {message.name or message.tool_call_id}{flag}: {content_text(message.content)}"
    if isinstance(message, UserMessage):
        return f"user: {content_text(message.content)}"
    return f"system: {message.content}"


def _load(args: argparse.Namespace, owner: str | None) -> Any:
    from ..errors import UserError

    thread = _with_store(args, lambda s: s.load(args.thread_id, owner=owner))
    if thread is None:
        raise UserError(f"No thread {args.thread_id!r} in the store; see 'aiops threads list'")
    return thread


def _show(args: argparse.Namespace) -> int:
    from ._approval import pending_of, show_pending

    thread = _load(args, args.owner)
    pending = pending_of(thread.info)
    if args.json:
        body = {
            **_info_json(thread.info),
            "messages": [m.model_dump(mode="json") for m in thread.messages],
            "pending_approval": [
                {
                    "id": c.id,
                    "name": c.name,
                    "arguments": c.arguments,
                    "reason": pending.reasons.get(c.id),
                }
                for c in pending.calls
            ]
            if pending
            else [],
        }
        body["metadata"] = {k: v for k, v in body["metadata"].items() if k != "pending_approval"}
        print(json.dumps(body, indent=2, default=str))
        return 0
    info = thread.info
    print(f"thread {info.thread_id}  owner {info.owner or '-'}  model {info.model or '-'}")
    print(f"title  {info.title or '-'}")
    print(f"{info.message_count} messages, updated {_when(info)} UTC")
    print()
    for message in thread.messages:
        print(_render(message))
    if pending is not None:
        # The paused turn is not in the history yet: show it, then what awaits a decision.
        for message in pending.messages:
            print(_render(message))
        print()
        show_pending(args.term, pending)
        print(
            f"Decide with 'aiops threads approve {info.thread_id} CALL_ID ...' or "
            f"'aiops threads reject {info.thread_id} CALL_ID ...'."
        )
    return 0


def _delete(args: argparse.Namespace) -> int:
    deleted = _with_store(args, lambda s: s.delete(args.thread_id, owner=args.owner))
    if not deleted:
        print(f"no thread {args.thread_id!r}", file=sys.stderr)
        return 1
    print(f"deleted thread {args.thread_id!r}")
    return 0


async def _idle(store: CheckpointStore, age: timedelta) -> list[ThreadInfo]:
    """Every thread idle for longer than ``age`` (what ``prune`` would delete)."""
    cutoff = datetime.now(UTC) - age
    found: list[ThreadInfo] = []
    cursor = None
    while True:
        page = await store.list_threads(limit=200, cursor=cursor)
        found.extend(i for i in page.threads if i.updated_at < cutoff)
        cursor = page.next_cursor
        if not cursor:
            return found


def _prune(args: argparse.Namespace) -> int:
    from ..errors import UserError

    term = args.term
    if args.dry_run or not args.yes:
        idle = _with_store(args, lambda s: _idle(s, args.older_than))
        if args.dry_run:
            rows = [(i.thread_id, i.owner or "-", _when(i), _title(i)) for i in idle]
            if rows:
                term.table(("THREAD", "OWNER", "UPDATED (UTC)", "TITLE"), rows)
            count = len(idle)
            plural = "s" if count != 1 else ""
            print(f"would prune {count} thread{plural} idle for more than {args.older_than}")
            return 0
        if not idle:
            print(f"no thread idle for more than {args.older_than}")
            return 0
        if not term.interactive:
            raise UserError(
                f"{len(idle)} thread(s) are idle for more than {args.older_than}: add --yes to "
                "delete them without a terminal, or --dry-run to list them"
            )
        answer = input(f"Delete {len(idle)} thread(s) idle for more than {args.older_than}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    count = _with_store(args, lambda s: s.prune(args.older_than))
    plural = "s" if count != 1 else ""
    print(f"pruned {count} thread{plural} idle for more than {args.older_than}")
    return 0


def _decide(args: argparse.Namespace) -> int:
    import anyio

    return int(anyio.run(_decide_async, args))


async def _decide_async(args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    from ..errors import UserError
    from ._approval import continue_flags, pending_of, resume, show_pending
    from ._session import open_agent, usage_line

    term = args.term
    args.thread = args.thread_id
    args.errors.thread = args.thread_id
    async with AsyncExitStack() as stack:
        store_url = resolve_store_url(args)
        if not args.store:
            args.store = store_url
        from ..checkpoint.url import open_store

        store = open_store(store_url)
        stack.push_async_callback(store.aclose)
        thread = await store.load(args.thread_id, owner=args.user)
        if thread is None:
            raise UserError(f"No thread {args.thread_id!r} in the store; see 'aiops threads list'")
        pending = pending_of(thread.info)
        if pending is None:
            raise UserError(f"Nothing awaits approval in thread {args.thread_id!r}")
        ids = [c.id for c in pending.calls]
        unknown = [i for i in args.call_ids if i not in ids]
        if unknown:
            raise UserError(
                f"No pending call {', '.join(unknown)} in thread {args.thread_id!r}; "
                f"pending: {', '.join(ids)}"
            )
        chosen = args.call_ids or ids
        others = [i for i in ids if i not in chosen]
        rest_flag = "--reject-rest" if args.approving else "--approve-rest"
        if others and not getattr(args, rest_flag[2:].replace("-", "_")):
            raise UserError(
                f"Every pending call needs a decision; undecided: {', '.join(others)}. "
                f"List them too, or add {rest_flag}"
            )
        approve, reject = (chosen, others) if args.approving else (others, chosen)
        args.default_model = thread.info.model
        agent = await open_agent(args, stack)
        result = await resume(
            agent,
            term,
            thread_id=args.thread_id,
            pending=pending,
            approve=approve,
            reject=reject,
            user=args.user,
            reason=getattr(args, "reason", None),
        )
        if result.status == "pending_approval" and result.pending is not None:
            show_pending(term, result.pending)
            flags = continue_flags(args)
            term.note(
                f"Decide with: aiops threads approve|reject {args.thread_id} CALL_ID ... {flags}",
                "yellow",
            )
            return ExitCode.PENDING_APPROVAL
        term.note(usage_line(result))
    return ExitCode.OK
