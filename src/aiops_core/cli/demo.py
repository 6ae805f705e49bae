"""``aiops demo``: a complete conversation, offline, with the parts of the engine at work.

Three questions about the example network inventory, in one thread: which devices are down,
the details of "that device", the prefix of "its address". The answers stream; tool calls show
as they run; the ``logging`` middleware reports every model and tool call and ``pii_redaction``
masks the SNMP community in tool results before the model sees them; the store keeps the thread,
and the second and third questions only make sense with its history. Offline, a scripted model
(:class:`~aiops_core.examples.scripted.ScriptedNetOpsModel`, not an LLM) plays the model;
``--model provider:name`` asks a real one the same questions.
"""

from __future__ import annotations

import argparse
import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from ._errors import ExitCode

if TYPE_CHECKING:
    from ._term import Term

__all__ = ["QUESTIONS", "register"]

QUESTIONS = (
    "Which devices are down right now?",
    "Show me the details of that device.",
    "Which prefix does its management address belong to?",
)
SYSTEM = (
    "You are a network operations assistant. Answer from the inventory tools: call them, then "
    "answer briefly from their results. Resolve 'that device' and 'its address' from the "
    "conversation so far."
)
MIDDLEWARE: tuple[tuple[str, int, dict[str, Any]], ...] = (
    ("logging", 10, {"level": "INFO"}),
    ("pii_redaction", 22, {}),
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``aiops demo``."""
    parser = subparsers.add_parser(
        "demo",
        help="run an offline demo conversation (no key, no server)",
        description=(
            "A three-question conversation about an example network inventory: streamed "
            "answers, tool calls, the logging and pii_redaction middleware, and a store that "
            "keeps the thread. Offline a scripted demo model (not an LLM) answers; "
            "--model provider:name asks a real model the same questions."
        ),
    )
    parser.add_argument(
        "--model",
        metavar="PROVIDER:MODEL",
        help="a real model instead of the scripted one, e.g. ollama:llama3.2 or openai:gpt-4o-mini",
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
    import anyio

    return int(anyio.run(_main, args))


class _CallLog(logging.Handler):
    """Keeps the ``logging`` middleware's records of a turn as short lines, shown after it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        data: dict[str, Any] = getattr(record, "aiops", {})
        if data.get("event") == "model_call":
            calls = f", asks for {data['tool_calls']}" if data.get("tool_calls") else ""
            text = (
                f"[logging] model call {data.get('model')}: {data.get('input_tokens')} tokens in, "
                f"{data.get('output_tokens')} out, {data.get('latency_ms')} ms{calls}"
            )
        elif data.get("event") == "tool_call":
            text = f"[logging] tool {data.get('tool')}: {data.get('outcome')}, {data.get('latency_ms')} ms"
        else:
            return
        self.lines.append(text)


def _model(args: argparse.Namespace, term: Term) -> Any:
    if args.model:
        from ..providers.registry import get_chat_model

        args.errors.model = args.model
        return get_chat_model(args.model)
    from ..examples.scripted import ScriptedNetOpsModel

    # Stream at a readable pace on a terminal, at full speed into a pipe or a test.
    return ScriptedNetOpsModel(delay=0.02 if term.interactive else 0.0)


async def _main(args: argparse.Namespace) -> int:
    from ..agent import Agent
    from ..checkpoint.url import open_store
    from ..examples import inventory_tools
    from ..middleware.base import MiddlewareSpec
    from ._session import render_stream, usage_line

    term: Term = args.term
    calls = logging.getLogger("aiops_core.calls")
    handler = _CallLog()
    async with AsyncExitStack() as stack:
        store = open_store(args.store)
        stack.push_async_callback(store.aclose)
        model = _model(args, term)
        stack.push_async_callback(model.aclose)
        agent = Agent(
            model,
            tools=inventory_tools(),
            system_prompt=SYSTEM,
            store=store,
            middleware=[MiddlewareSpec(t, priority=p, config=c) for t, p, c in MIDDLEWARE],
        )
        calls.addHandler(handler)
        stack.callback(calls.removeHandler, handler)
        if calls.getEffectiveLevel() > logging.INFO:
            calls.setLevel(logging.INFO)
            stack.callback(calls.setLevel, logging.NOTSET)
        tools = ", ".join(t.name for t in await agent.list_tools())
        who = (
            f"model {model.name}"
            if args.model
            else "a scripted demo model (offline and deterministic; not an LLM)"
        )
        out = term.out
        out.write(term.style(f"aiops demo: {who}", "bold") + "\n")
        out.write(f"  tools       {tools}\n")
        out.write(
            "  middleware  " + ", ".join(f"{t} (priority {p})" for t, p, _ in MIDDLEWARE) + "\n"
        )
        out.write(f"  store       {args.store}, thread {args.thread!r}\n")
        if not args.model:
            out.write("  Ask a real model the same: aiops demo --model ollama:llama3.2\n")
        out.write("\n")
        for question in QUESTIONS:
            before = await store.load(args.thread)
            known = len(before.messages) if before else 0
            out.write(f"{term.style('you>', 'bold', 'green')} {question}\n")
            if known:
                term.note(
                    f"[store] {known} earlier messages of thread {args.thread!r} go to the model"
                )
            stream = agent.stream(question, thread_id=args.thread)
            result = await render_stream(stream, term, label="assistant> ")
            for line in handler.lines:
                term.note(line)
            handler.lines.clear()
            term.note(usage_line(result))
            after = await store.load(args.thread)
            count = len(after.messages) if after else 0
            term.note(
                f"[store] thread {args.thread!r}: +{count - known} messages, {count} in {args.store}"
            )
            out.write("\n")
        out.flush()
    return ExitCode.OK
