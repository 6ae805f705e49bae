"""``aiops run``: ask one question."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AsyncExitStack

import anyio

from ._session import add_agent_arguments, open_agent, render_stream, usage_line


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="ask one question and print the answer",
        description="Ask one question. Streams the answer and shows tool calls as they happen.",
    )
    parser.add_argument("question", help="what to ask")
    add_agent_arguments(parser)
    parser.add_argument("--thread", metavar="ID", help="continue (or start) this stored thread")
    parser.add_argument("--user", metavar="NAME", help="owner of the thread")
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON instead of streaming"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    return anyio.run(_main, args)


async def _main(args: argparse.Namespace) -> int:
    async with AsyncExitStack() as stack:
        agent, _ = await open_agent(args, stack)
        if args.json:
            result = await agent.run(args.question, thread_id=args.thread, user=args.user)
            print(
                json.dumps(
                    {
                        "output": result.output,
                        "status": result.status,
                        "thread_id": result.thread_id,
                        "model": result.model,
                        "steps": result.steps,
                        "tool_calls": [c.model_dump(mode="json") for c in result.tool_calls],
                        "usage": result.usage.model_dump(),
                        "warnings": result.warnings,
                    },
                    indent=2,
                    default=str,
                )
            )
            return 0
        result = await render_stream(
            agent.stream(args.question, thread_id=args.thread, user=args.user),
            show_thinking=not args.hide_thinking,
        )
        print(usage_line(result), file=sys.stderr)
    return 0
