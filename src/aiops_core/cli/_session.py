"""Build an agent for a CLI command from a config file and flags, and render what it does."""

from __future__ import annotations

import argparse
import json
import os
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from ._term import Term

if TYPE_CHECKING:
    from ..agent import Agent, RunResult
    from ..checkpoint.base import CheckpointStore
    from .config import AppConfig

__all__ = [
    "add_agent_arguments",
    "open_agent",
    "positive_int",
    "render_stream",
    "result_json",
    "show_tool_results",
    "usage_line",
]


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by the commands that run an agent (``run``, ``chat``, approvals)."""
    parser.add_argument(
        "--config", metavar="FILE", help="TOML config file (model, middleware, MCP servers, store)"
    )
    parser.add_argument(
        "--model",
        metavar="PROVIDER:MODEL",
        help="model to use, e.g. openai:gpt-4o-mini or ollama:llama3.2 (default: test)",
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
    parser.add_argument(
        "--max-steps", type=positive_int, metavar="N", help="most model calls per turn (>= 1)"
    )
    parser.add_argument(
        "--hide-thinking",
        action="store_true",
        help="do not print the model's thinking (shown dimmed by default)",
    )


def _open_store(url: str | None, needed: bool) -> CheckpointStore | None:
    """The configured store; the default SQLite file when a thread must persist but none is set."""
    from ..checkpoint.url import default_store_url, open_store

    if not url and not needed:
        return None
    return open_store(url or default_store_url())


def _mcp_target(config: Any) -> tuple[str, float]:
    if config.transport == "stdio":
        where = " ".join([config.command or "", *config.args]).strip()
    else:
        where = config.endpoint
    return where, float(config.timeout)


async def _open_mcp(
    config: AppConfig, stack: AsyncExitStack, term: Term, errors: Any
) -> Any | None:
    """Start the config's MCP servers with progress on the terminal; the pool, or ``None``."""
    if not config.mcp_servers:
        return None
    from ..mcp import MCPClientPool
    from ._mcp import pool_options

    servers = config.mcp_server_configs()
    for server in servers:
        errors.mcp_servers[server.name] = _mcp_target(server)
    names = ", ".join(s.name for s in servers)
    with term.spinning(f"starting MCP servers: {names}"):
        pool = await stack.enter_async_context(
            MCPClientPool(servers, **pool_options(spinner=term.spinner))
        )
    for status in pool.status():
        if status.state == "healthy":
            term.note(f"MCP {status.name}: {status.tool_count} tools")
        elif status.state != "disabled":
            term.warn(f"MCP server {status.name!r} is {status.state}: {status.last_error}")
    return pool


async def open_agent(args: argparse.Namespace, stack: AsyncExitStack) -> Agent:
    """An agent from ``--config`` plus flag overrides; resources are closed by ``stack``."""
    from ..agent import Agent
    from ..providers.registry import get_chat_model
    from .config import load_config

    term: Term = args.term
    errors = args.errors
    config = load_config(getattr(args, "config", None))
    # --model, else the config file's model, else (approvals) the thread's model, else "test".
    configured = config.model if "model" in config.model_fields_set else None
    model_spec = (
        getattr(args, "model", None)
        or configured
        or getattr(args, "default_model", None)
        or config.model
    )
    errors.model = model_spec
    errors.base_url = config.model_options.get("base_url")
    errors.timeout = config.model_options.get("timeout") or 60.0
    errors.max_steps = getattr(args, "max_steps", None) or config.max_steps
    tools: list[Any] = []
    if getattr(args, "tools", "none") == "inventory":
        from ..examples import inventory_tools

        tools.extend(inventory_tools())
    model = get_chat_model(model_spec, **config.model_options)
    stack.push_async_callback(model.aclose)
    pool = await _open_mcp(config, stack, term, errors)
    if pool is not None:
        tools.append(pool)
    needed = bool(getattr(args, "thread", None)) or args.command in ("chat", "threads")
    url = getattr(args, "store", None) or config.store
    store = _open_store(url, needed)
    if store is not None:
        errors.store_url = url
        stack.push_async_callback(store.aclose)
    agent = Agent(
        model,
        tools=tools,
        system_prompt=getattr(args, "system", None) or config.system_prompt,
        middleware=config.middleware_specs(),
        store=store,
        max_steps=errors.max_steps,
        recorder=_usage_recorder(config.usage, stack),
    )
    return agent


def _usage_recorder(url: str | None, stack: AsyncExitStack) -> Any:
    """The recorder of the config file's ``usage`` database (``$AIOPS_USAGE``), if any."""
    url = url or os.environ.get("AIOPS_USAGE")
    if not url:
        return None
    from ..usage.sql import SQLUsageRecorder

    recorder = SQLUsageRecorder(url)
    stack.push_async_callback(recorder.aclose)
    return recorder


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _call_line(term: Term, name: str, arguments: Any) -> str:
    return term.style(f"  -> {name}({_short(arguments)})", "cyan")


def _result_line(term: Term, name: str, is_error: bool, text: str) -> str:
    mark = term.style("error", "red") if is_error else term.style("ok", "green")
    return f"{term.style(f'  <- {name}', 'cyan')} [{mark}] {term.style(_short(text), 'dim')}"


async def render_stream(
    events: Any, term: Term, label: str = "", *, show_thinking: bool = True
) -> RunResult:
    """Print a streamed run: answer text as it arrives, tool calls on their own lines.

    ``label`` (such as ``"assistant> "``) is written before the first text. A spinner shows on
    a terminal while the model or a tool is working. The model's thinking is printed dimmed
    where colour is on (after ``[thinking]`` elsewhere), on lines of its own before the answer;
    ``show_thinking=False`` leaves it out.
    """
    from ..agent import (
        FinalResult,
        RunError,
        TextDelta,
        ThinkingDelta,
        ToolCallFinished,
        ToolCallStarted,
    )

    out = term.out
    result: RunResult | None = None
    at_line_start = True
    labelled = not label
    thinking = False  # inside a block of thinking text
    term.spinner.start("thinking")
    async for event in events:
        if isinstance(event, ThinkingDelta):
            if not show_thinking:
                continue
            term.spinner.stop()
            if not thinking:
                if not at_line_start:
                    out.write("\n")
                if not term.colour_out:
                    out.write("[thinking] ")
                thinking = True
            out.write(term.style(event.text, "dim"))
            at_line_start = event.text.endswith("\n")
            out.flush()
            continue
        if thinking:  # the thinking ended: what follows starts on a line of its own
            if not at_line_start:
                out.write("\n")
            thinking, at_line_start = False, True
        if isinstance(event, TextDelta):
            term.spinner.stop()
            if not labelled:
                out.write(term.style(label, "bold", "blue"))
                labelled = True
            out.write(event.text)
            at_line_start = event.text.endswith("\n")
        elif isinstance(event, ToolCallStarted):
            term.spinner.stop()
            if not at_line_start:
                out.write("\n")
            out.write(_call_line(term, event.call.name, event.call.arguments) + "\n")
            at_line_start = True
            term.spinner.start(f"running {event.call.name}")
        elif isinstance(event, ToolCallFinished):
            term.spinner.stop()
            res = event.result
            out.write(_result_line(term, event.call.name, res.is_error, res.text) + "\n")
            term.spinner.start("thinking")
        elif isinstance(event, FinalResult):
            result = event.result
        elif isinstance(event, RunError):
            term.spinner.stop()
            if not at_line_start:
                out.write("\n")
                at_line_start = True
        out.flush()
    term.spinner.stop()
    if not at_line_start:
        out.write("\n")
    out.flush()
    if result is None:  # pragma: no cover - the stream raises instead of ending without a result
        raise RuntimeError("the run ended without a result")
    for warning in result.warnings:
        term.warn(warning)
    return result


def show_tool_results(result: RunResult, term: Term, skip: int = 0) -> None:
    """Print the tool calls and results of a (resumed) run's messages after the first ``skip``."""
    from ..messages import AssistantMessage, ToolResultMessage

    for message in result.messages[skip:]:
        if isinstance(message, AssistantMessage):
            for call in message.tool_calls:
                term.out.write(_call_line(term, call.name, call.arguments) + "\n")
        elif isinstance(message, ToolResultMessage):
            line = _result_line(term, message.name or "tool", message.is_error, message.text)
            term.out.write(line + "\n")
    term.out.flush()


def usage_line(result: RunResult) -> str:
    """One line summarising a run's usage."""
    u = result.usage
    reasoning = f" (reasoning {u.reasoning_tokens})" if u.reasoning_tokens else ""
    return (
        f"[{result.model} | steps {result.steps} | requests {u.requests} | "
        f"tokens in {u.input_tokens} out {u.output_tokens}{reasoning}]"
    )


def result_json(result: RunResult) -> dict[str, Any]:
    """A run as JSON data: output, status, tool calls with their results, usage, warnings."""
    from ..messages import ToolResultMessage

    results = {m.tool_call_id: m for m in result.messages if isinstance(m, ToolResultMessage)}
    calls = []
    for call in result.tool_calls:
        res = results.get(call.id)
        calls.append(
            {
                "id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "result": res.text if res is not None else None,
                "is_error": res.is_error if res is not None else None,
            }
        )
    output = result.output
    if hasattr(output, "model_dump"):
        output = output.model_dump(mode="json")
    data: dict[str, Any] = {
        "output": output,
        "status": result.status,
        "thread_id": result.thread_id,
        "model": result.model,
        "steps": result.steps,
        "tool_calls": calls,
        "usage": result.usage.model_dump(),
        "warnings": result.warnings,
    }
    if result.pending is not None:
        data["pending_approval"] = [
            {
                "id": c.id,
                "name": c.name,
                "arguments": c.arguments,
                "reason": result.pending.reasons.get(c.id),
            }
            for c in result.pending.calls
        ]
    return data
