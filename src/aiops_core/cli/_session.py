"""Build an agent for a CLI command from a config file and flags, and render its stream."""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import AsyncExitStack
from typing import Any, TextIO

from ..agent import (
    Agent,
    FinalResult,
    RunError,
    RunResult,
    TextDelta,
    ThinkingDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from ..agent.events import AgentEvent
from ..checkpoint.base import CheckpointStore
from ..providers.registry import get_chat_model
from .config import AppConfig, load_config

__all__ = ["add_agent_arguments", "open_agent", "render_stream", "usage_line"]


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``run`` and ``chat``."""
    parser.add_argument(
        "--config", metavar="FILE", help="TOML config file (model, middleware, MCP servers, store)"
    )
    parser.add_argument(
        "--model",
        metavar="PROVIDER:MODEL",
        help="model to use, e.g. openai:gpt-4o-mini (default: test)",
    )
    parser.add_argument(
        "--store", metavar="URL", help="checkpoint store URL, e.g. sqlite:///aiops.db or memory://"
    )
    parser.add_argument("--system", metavar="TEXT", help="system prompt")
    parser.add_argument(
        "--tools",
        choices=["none", "inventory"],
        default="none",
        help="built-in example tools to offer the model (MCP tools come from --config)",
    )
    parser.add_argument("--max-steps", type=int, metavar="N", help="most model calls per turn")
    parser.add_argument(
        "--hide-thinking",
        action="store_true",
        help="do not print the model's thinking (shown dimmed by default)",
    )


def _open_store(url: str | None, needed: bool) -> CheckpointStore | None:
    """The configured store; the default SQLite file when a thread must persist but none is set."""
    from ..checkpoint.url import default_store_url

    if not url and not needed:
        return None
    from ..checkpoint import open_store

    return open_store(url or default_store_url())


async def open_agent(args: argparse.Namespace, stack: AsyncExitStack) -> tuple[Agent, AppConfig]:
    """An agent from ``--config`` plus flag overrides; resources are closed by ``stack``."""
    config = load_config(getattr(args, "config", None))
    tools: list[Any] = []
    if getattr(args, "tools", "none") == "inventory":
        from ..examples import inventory_tools

        tools.extend(inventory_tools())
    if config.mcp_servers:
        from ..mcp import MCPClientPool

        pool = await stack.enter_async_context(MCPClientPool(config.mcp_server_configs()))
        tools.append(pool)
    model_spec = args.model or config.model
    model = get_chat_model(model_spec, **config.model_options)
    needed = bool(getattr(args, "thread", None)) or args.command == "chat"
    store = _open_store(args.store or config.store, needed)
    if store is not None:
        stack.push_async_callback(store.aclose)
    agent = Agent(
        model,
        tools=tools,
        system_prompt=args.system or config.system_prompt,
        middleware=config.middleware_specs(),
        store=store,
        max_steps=args.max_steps or config.max_steps,
    )
    stack.push_async_callback(agent.aclose)
    return agent, config


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_DIM, _RESET = "\x1b[2m", "\x1b[0m"


def _styled(out: TextIO) -> bool:
    """Whether ``out`` is a terminal that may get ANSI styles (``NO_COLOR`` turns them off)."""
    return out.isatty() and not os.environ.get("NO_COLOR")


async def render_stream(
    events: Any, out: TextIO = sys.stdout, *, show_thinking: bool = True
) -> RunResult:
    """Print a streamed run: answer text as it arrives, tool calls on their own lines.

    The model's thinking is printed dimmed on a terminal (after ``[thinking]`` elsewhere), apart
    from the answer; ``show_thinking=False`` leaves it out.
    """
    result: RunResult | None = None
    at_line_start = True
    thinking = False  # inside a block of thinking text
    styled = _styled(out)
    event: AgentEvent
    async for event in events:
        if isinstance(event, ThinkingDelta):
            if not show_thinking:
                continue
            if not thinking:
                if not at_line_start:
                    out.write("\n")
                out.write(_DIM if styled else "[thinking] ")
                thinking = True
            out.write(event.text)
            at_line_start = event.text.endswith("\n")
            out.flush()
            continue
        if thinking:  # the thinking ended: back to plain text on a line of its own
            out.write(_RESET if styled else "")
            if not at_line_start:
                out.write("\n")
            thinking, at_line_start = False, True
        if isinstance(event, TextDelta):
            out.write(event.text)
            at_line_start = event.text.endswith("\n")
        elif isinstance(event, ToolCallStarted):
            if not at_line_start:
                out.write("\n")
            out.write(f"  -> {event.call.name}({_short(event.call.arguments)})\n")
            at_line_start = True
        elif isinstance(event, ToolCallFinished):
            mark = "error" if event.result.is_error else "ok"
            out.write(f"  <- {event.call.name} [{mark}] {_short(event.result.text)}\n")
        elif isinstance(event, FinalResult):
            result = event.result
        elif isinstance(event, RunError) and not at_line_start:
            out.write("\n")
            at_line_start = True
        out.flush()
    if not at_line_start:
        out.write("\n")
    if result is None:  # pragma: no cover - the stream raises instead of ending without a result
        raise RuntimeError("the run ended without a result")
    if result.status == "pending_approval" and result.pending:
        names = ", ".join(f"{c.name} ({c.id})" for c in result.pending.calls)
        out.write(f"[waiting for approval: {names}]\n")
    for warning in result.warnings:
        out.write(f"[warning] {warning}\n")
    out.flush()
    return result


def usage_line(result: RunResult) -> str:
    """One line summarising a run's usage."""
    u = result.usage
    reasoning = f" (reasoning {u.reasoning_tokens})" if u.reasoning_tokens else ""
    return (
        f"[{result.model} | steps {result.steps} | requests {u.requests} | "
        f"tokens in {u.input_tokens} out {u.output_tokens}{reasoning}]"
    )
