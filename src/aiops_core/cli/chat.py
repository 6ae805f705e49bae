"""``aiops chat``: an interactive conversation."""

from __future__ import annotations

import argparse
import sys
import uuid
from contextlib import AsyncExitStack

import anyio
import anyio.to_thread

from ..errors import AiopsError
from ._session import add_agent_arguments, open_agent, render_stream, usage_line

HELP = """commands:
  /new      start a new thread (forget the conversation so far)
  /thread   show the current thread id
  /help     this help
  /exit     quit (or Ctrl-D)"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="chat interactively (streaming, /new for a new thread)",
        description="Chat with the assistant. Type /help for commands.",
    )
    add_agent_arguments(parser)
    parser.add_argument("--thread", metavar="ID", help="continue this stored thread")
    parser.add_argument("--user", metavar="NAME", help="owner of the threads")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return anyio.run(_main, args)


def _new_thread() -> str:
    return f"chat-{uuid.uuid4().hex[:12]}"


async def _main(args: argparse.Namespace) -> int:
    async with AsyncExitStack() as stack:
        agent, _ = await open_agent(args, stack)
        thread = args.thread or _new_thread()
        print(f"aiops chat with {agent.model.name} (thread {thread}); /help for commands")
        while True:
            try:
                line = await anyio.to_thread.run_sync(input, "you> ")
            except EOFError:
                print()
                return 0
            text = line.strip()
            if not text:
                continue
            if text in ("/exit", "/quit"):
                return 0
            if text == "/help":
                print(HELP)
                continue
            if text == "/thread":
                print(thread)
                continue
            if text == "/new":
                thread = _new_thread()
                print(f"new thread {thread}")
                continue
            sys.stdout.write("assistant> ")
            try:
                result = await render_stream(
                    agent.stream(text, thread_id=thread, user=args.user),
                    show_thinking=not args.hide_thinking,
                )
            except AiopsError as err:
                print(f"error: {err}", file=sys.stderr)
                continue
            print(usage_line(result), file=sys.stderr)
