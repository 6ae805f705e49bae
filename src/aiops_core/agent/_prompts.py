"""System prompts: fixed text, or callables evaluated at the start of every run.

A part is a string, or a function of the run's :class:`~aiops_core.context.RunContext` (sync or
async) returning a string; a function may also take no argument. The parts are joined, in order,
into the one system message sent first on every model call of the run; a part that returns an
empty string is left out.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..context import RunContext
from ..errors import UserError
from ..messages import Message, SystemMessage

__all__ = ["PromptPart", "SystemPrompt", "SystemPrompts"]

PromptPart = (
    str | Callable[[RunContext[Any]], str | Awaitable[str]] | Callable[[], str | Awaitable[str]]
)
"""One part of a system prompt: text, or a function evaluated per run."""

SystemPrompt = PromptPart | Sequence[PromptPart]
"""What ``Agent(system_prompt=...)`` takes: one part or several."""


class SystemPrompts:
    """An agent's system prompt parts, with the fixed ones rendered once.

    Args:
        prompt: a part, a sequence of parts, or ``None``.
    """

    __slots__ = ("_fixed", "_parts")

    def __init__(self, prompt: SystemPrompt | None) -> None:
        parts: list[PromptPart] = (
            []
            if prompt is None
            else [prompt]
            if isinstance(prompt, str) or callable(prompt)
            else list(prompt)
        )
        self._parts: list[tuple[str | Callable[..., Any], bool]] = []
        for part in parts:
            if isinstance(part, str):
                self._parts.append((part, False))
            elif callable(part):
                self._parts.append((part, _takes_context(part)))
            else:
                raise UserError(
                    f"A system prompt part is a string or a function of the run context, not {part!r}"
                )
        dynamic = any(callable(p) for p, _ in self._parts)
        text = "\n\n".join(p for p, _ in self._parts if isinstance(p, str) and p)
        self._fixed: list[Message] | None = (
            None if dynamic else [SystemMessage(content=text)] if text else []
        )

    async def render(self, ctx: RunContext[Any]) -> list[Message]:
        """The system message of one run (none when every part is empty)."""
        if self._fixed is not None:
            return self._fixed
        texts: list[str] = []
        for part, takes_context in self._parts:
            if isinstance(part, str):
                text: Any = part
            else:
                text = part(ctx) if takes_context else part()
                if inspect.isawaitable(text):
                    text = await text
                if not isinstance(text, str):
                    name = getattr(part, "__name__", repr(part))
                    raise UserError(
                        f"System prompt function {name!r} returned {type(text).__name__}; return a str"
                    )
            if text:
                texts.append(text)
        return [SystemMessage(content="\n\n".join(texts))] if texts else []


def _takes_context(func: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: call it with the context
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) > 1 or any(
        p.kind is p.KEYWORD_ONLY and p.default is p.empty for p in params
    ):
        name = getattr(func, "__name__", repr(func))
        raise UserError(
            f"System prompt function {name!r} must take the run context or nothing: "
            "def prompt(ctx: RunContext) -> str"
        )
    return bool(positional) or any(p.kind is p.VAR_POSITIONAL for p in params)
