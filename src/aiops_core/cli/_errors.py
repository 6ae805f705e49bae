"""Errors in the command line's words, and the command's exit codes.

The engine's messages are written for Python callers ("pass api_key=...", "raise max_steps").
:func:`describe` rewrites them for someone at a shell: which flag, config key or environment
variable to change, which URL failed and after how many seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

__all__ = ["ErrorContext", "ExitCode", "describe", "guess_provider"]


class ExitCode(IntEnum):
    """Exit status of ``aiops`` (documented in the CLI reference)."""

    OK = 0
    FAILURE = 1
    """A runtime failure (provider, store, MCP, limit) or a negative answer (``mcp check``)."""
    USAGE = 2
    """Bad flags, a bad config file or another mistake the message tells how to fix."""
    PENDING_APPROVAL = 3
    """The run paused: tool calls await a decision (``aiops threads approve|reject``)."""
    INTERRUPTED = 130
    """Ctrl-C."""
    BROKEN_PIPE = 141
    """The reader of the output went away (``aiops ... | head``)."""


@dataclass
class ErrorContext:
    """What the command knows that makes an error message actionable."""

    thread: str | None = None
    max_steps: int | None = None
    model: str | None = None
    base_url: str | None = None
    timeout: float | None = None
    store_url: str | None = None
    mcp_servers: dict[str, tuple[str, float]] = field(default_factory=dict)
    """MCP server name -> (URL or command line, timeout in seconds)."""
    in_chat: bool = False


_PROVIDER_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "ollama": "$OLLAMA_HOST or http://127.0.0.1:11434",
    "huggingface": "the Hugging Face router",
    "azure_openai": "$AZURE_OPENAI_ENDPOINT",
}

_MODEL_FAMILIES = (
    (re.compile(r"^(gpt-|o\d|chatgpt|text-embedding|davinci)", re.I), "openai"),
    (re.compile(r"^claude", re.I), "anthropic"),
    (re.compile(r"^[\w.-]+/[\w.-]+$"), "huggingface"),
    (
        re.compile(r"^(llama|qwen|mistral|mixtral|gemma|phi|deepseek|codellama|granite)", re.I),
        "ollama",
    ),
)

# Python-isms in engine messages, and what a command-line user does instead.
_REWRITES = (
    (
        re.compile(r"pass api_key=\.\.\. or set (\w+)"),
        r"set \1 in the environment (or api_key under [model_options] in the config file)",
    ),
    (re.compile(r"get_chat_model\('([\w.-]+):<(\w+)>'\)"), r"--model \1:<\2>"),
    (re.compile(r"raise max_steps"), "raise --max-steps (or max_steps in the config file)"),
)


def guess_provider(model: str) -> str | None:
    """The provider a bare model name most likely belongs to (``gpt-4o`` -> ``openai``)."""
    for pattern, provider in _MODEL_FAMILIES:
        if pattern.search(model):
            return provider
    return None


def _approval_hint(ctx: ErrorContext) -> str:
    thread = ctx.thread or "THREAD"
    if ctx.in_chat:
        return "answer with /approve or /reject (see /pending) first"
    return (
        f"decide first with 'aiops threads approve {thread} CALL_ID' or "
        f"'aiops threads reject {thread} CALL_ID' (the calls: 'aiops threads show {thread}')"
    )


def describe(err: BaseException, ctx: ErrorContext | None = None) -> tuple[str, ExitCode]:
    """The message to print for ``err`` and the exit code to return."""
    from ..errors import (
        AiopsError,
        ApprovalStateError,
        MaxStepsExceeded,
        MCPConnectionError,
        MCPTimeoutError,
        ProviderConnectionError,
        ProviderTimeoutError,
        StoreUnavailableError,
        ThreadAccessError,
        UnknownNameError,
        UserError,
    )

    ctx = ctx or ErrorContext()
    if isinstance(err, ModuleNotFoundError):
        from .._extras import missing_extra

        mapped = missing_extra(err, "This command")
        if mapped is not err:
            return str(mapped), ExitCode.USAGE
    if not isinstance(err, AiopsError):
        return (
            f"unexpected {type(err).__name__}: {err} (run with --debug for the traceback)",
            ExitCode.FAILURE,
        )
    text = str(err)
    # Another owner's thread is a request to change, not a failure of the system.
    code = ExitCode.USAGE if isinstance(err, (UserError, ThreadAccessError)) else ExitCode.FAILURE
    if isinstance(err, MaxStepsExceeded):
        steps = f"{ctx.max_steps} model calls" if ctx.max_steps else "its model calls"
        text = (
            f"The run used {steps} without reaching a final answer: allow more with "
            "--max-steps N (or max_steps in the config file), or offer the model fewer tools"
        )
    elif isinstance(err, ApprovalStateError) and ("awaiting" in text or "agent.resume" in text):
        text = f"{text.split(':', 1)[0]}: {_approval_hint(ctx)}"
    elif isinstance(err, UnknownNameError) and err.kind == "provider" and ctx.model:
        model = ctx.model
        if ":" not in model:
            guess = guess_provider(model)
            text = (
                f"--model {model!r} names no provider: a model is written provider:model"
                + (f". Did you mean --model {guess}:{model}?" if guess else "")
                + f" Known providers: {', '.join(err.known)}."
            )
    elif isinstance(err, (ProviderTimeoutError, ProviderConnectionError)):
        url = ctx.base_url or _PROVIDER_URLS.get(getattr(err, "provider", "") or "", "")
        where = f" (URL {url})" if url else ""
        if isinstance(err, ProviderTimeoutError):
            seconds = f"{ctx.timeout:g} s" if ctx.timeout else "the timeout"
            text = (
                f"{text}{where}: no answer within {seconds}; raise timeout under [model_options] "
                "in the config file, or check the server"
            )
        else:
            text = (
                f"{text}{where}: check that the server is up and reachable, or set base_url "
                "under [model_options] in the config file"
            )
    elif isinstance(err, (MCPTimeoutError, MCPConnectionError)):
        server = getattr(err, "server", None)
        target, limit = ctx.mcp_servers.get(server or "", ("", 0.0))
        where = f" ({target})" if target else ""
        if isinstance(err, MCPTimeoutError):
            text = (
                f"{text}{where}: no answer within {limit:g} s; raise timeout in its "
                "[[mcp_servers]] entry"
            )
        else:
            text = f"{text}{where}: check the server, its URL or command in [[mcp_servers]]"
    elif isinstance(err, StoreUnavailableError):
        text = (
            f"{text}: check that the store's server is up, or choose another store with "
            "--store URL (or $AIOPS_STORE)"
        )
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return text, code
