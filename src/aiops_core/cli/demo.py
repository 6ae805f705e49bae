"""``aiops demo``: a complete offline conversation."""

from __future__ import annotations

import argparse
import sys
from contextlib import AsyncExitStack

import anyio

from ..agent import Agent
from ..examples import inventory_tools
from ._session import render_stream, usage_line

QUESTIONS = (
    "Which devices do we have, and is anything down?",
    "Give me the details of the Amsterdam core switch and the prefix of 10.11.0.2.",
)
SYSTEM = "You are a network operations assistant. Answer from the inventory tools."


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run an offline demo conversation (no key, no server)",
        description=(
            "Run a two-turn conversation with the offline 'test' model and example network-inventory "
            "tools, streaming the answers and showing each tool call."
        ),
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        default="memory://",
        help="where the conversation is kept (default memory://; e.g. sqlite:///demo.db)",
    )
    parser.add_argument("--thread", metavar="ID", default="demo", help="thread id (default: demo)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return anyio.run(_main, args)


async def _main(args: argparse.Namespace) -> int:
    from ..checkpoint import open_store

    async with AsyncExitStack() as stack:
        store = open_store(args.store)
        stack.push_async_callback(store.aclose)
        agent = Agent("test", tools=inventory_tools(), system_prompt=SYSTEM, store=store)
        tools = ", ".join(t.name for t in await agent.list_tools())
        print(f"aiops demo: model {agent.model.name}, tools {tools}, store {args.store}\n")
        for question in QUESTIONS:
            print(f"you> {question}")
            sys.stdout.write("assistant> ")
            result = await render_stream(agent.stream(question, thread_id=args.thread))
            print(usage_line(result))
            print()
        thread = await store.load(args.thread)
        count = len(thread.messages) if thread else 0
        print(f"thread {args.thread!r}: {count} messages stored in {args.store}")
    return 0
