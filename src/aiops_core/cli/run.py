"""``aiops run``: ask one question."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from ._errors import ExitCode
from ._session import add_agent_arguments

if TYPE_CHECKING:
    from ..agent import Agent, RunResult

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``aiops run``."""
    parser = subparsers.add_parser(
        "run",
        help="ask one question and print the answer",
        description=(
            "Ask one question. Streams the answer and shows tool calls as they happen. When the "
            "tool_approval middleware pauses the run, a terminal asks you to approve or reject "
            "each call; otherwise the command prints the pending calls and exits with status 3 "
            "(decide later with 'aiops threads approve|reject')."
        ),
    )
    parser.add_argument("question", help="what to ask; '-' reads the question from standard input")
    add_agent_arguments(parser)
    parser.add_argument("--thread", metavar="ID", help="continue (or start) this stored thread")
    parser.add_argument("--user", metavar="NAME", help="owner of the thread")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as JSON (output, tool calls with results, usage) instead of streaming",
    )
    parser.set_defaults(func=_run)


def _question(args: argparse.Namespace) -> str:
    from ..errors import UserError

    text: str = args.question
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise UserError("The question is empty: pass it as an argument, or '-' and pipe it in")
    return text.strip() if args.question == "-" else text


def _run(args: argparse.Namespace) -> int:
    import anyio

    question = _question(args)
    args.errors.thread = args.thread
    return anyio.run(_main, args, question)


def _can_continue_later(agent: Agent, args: argparse.Namespace) -> bool:
    from ..checkpoint.memory import MemoryStore

    return (
        bool(args.thread) and agent.store is not None and not isinstance(agent.store, MemoryStore)
    )


def _explain_pause(agent: Agent, args: argparse.Namespace, result: RunResult) -> None:
    from ._approval import continue_flags

    term = args.term
    if not _can_continue_later(agent, args):
        term.note(
            "This run kept no stored thread, so it cannot be continued later: run it on a "
            "terminal to decide now, or again with --thread ID (and a persistent --store).",
            "yellow",
        )
        return
    ids = " ".join(c.id for c in result.pending.calls) if result.pending else "CALL_ID"
    flags = continue_flags(args)
    tail = f" {flags}" if flags else ""
    term.note(
        f"Decide with: aiops threads approve {args.thread} {ids}{tail}\n"
        f"         or: aiops threads reject {args.thread} {ids}{tail}",
        "yellow",
    )


async def _main(args: argparse.Namespace, question: str) -> int:
    import anyio.to_thread

    from ._approval import ask_decisions, resume, show_pending
    from ._session import open_agent, render_stream, result_json, usage_line

    term = args.term
    async with AsyncExitStack() as stack:
        agent = await open_agent(args, stack)
        if args.json:
            result = await agent.run(question, thread_id=args.thread, user=args.user)
            print(json.dumps(result_json(result), indent=2, default=str))
            if result.status == "pending_approval":
                return ExitCode.PENDING_APPROVAL
            return ExitCode.OK
        result = await render_stream(
            agent.stream(question, thread_id=args.thread, user=args.user),
            term,
            show_thinking=not args.hide_thinking,
        )
        while result.status == "pending_approval" and result.pending is not None:
            show_pending(term, result.pending)
            if not term.interactive:
                _explain_pause(agent, args, result)
                return ExitCode.PENDING_APPROVAL
            approve, reject = await anyio.to_thread.run_sync(ask_decisions, term, result.pending)
            result = await resume(
                agent,
                term,
                thread_id=args.thread,
                pending=result.pending,
                approve=approve,
                reject=reject,
                user=args.user,
            )
        term.note(usage_line(result))
    return ExitCode.OK
