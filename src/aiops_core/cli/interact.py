"""The terminal side of MCP servers' questions: elicitation forms and sampling approvals.

:class:`TerminalPrompter` answers an :class:`~aiops_core.mcp.ElicitationRequest` by asking field
by field (defaults shown in brackets, choices numbered, Enter keeps the default), and asks yes/no
before a server may use the model (sampling with ``approve``). Reading the terminal happens in a
worker thread, never on the event loop.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

import anyio.to_thread

from ..errors import UserError
from ..mcp.elicitation import (
    ElicitationRequest,
    ElicitationResponse,
    Value,
    apply_defaults,
    validate_content,
)
from ..mcp.sampling import SamplingRequest

__all__ = ["TerminalPrompter"]

_ATTEMPTS = 3


class _Cancelled(Exception):
    """The person typed ``/cancel`` (or the input ended)."""


class TerminalPrompter:
    """Asks the person at the terminal.

    Args:
        ask: reads one line after showing a prompt (default :func:`input`).
        out: where questions are written.
        before: called before each question (the CLI stops its spinner).
    """

    def __init__(
        self,
        ask: Callable[[str], str] = input,
        out: TextIO | None = None,
        *,
        before: Callable[[], None] | None = None,
    ) -> None:
        self._ask = ask
        self._out = out
        self._before = before

    def _say(self, text: str) -> None:
        out = self._out or sys.stdout
        out.write(text + "\n")
        out.flush()

    def _line(self, prompt: str) -> str:
        try:
            answer = self._ask(prompt)
        except EOFError:
            raise _Cancelled from None
        if answer.strip() == "/cancel":
            raise _Cancelled
        return answer.strip()

    # ------------------------------------------------------------------ elicitation
    async def elicit(self, request: ElicitationRequest) -> ElicitationResponse:
        """An :data:`~aiops_core.mcp.ElicitationHandler` for the terminal."""
        return await anyio.to_thread.run_sync(self.elicit_sync, request)

    def elicit_sync(self, request: ElicitationRequest) -> ElicitationResponse:
        """:meth:`elicit`, blocking (runs in a worker thread)."""
        if self._before is not None:
            self._before()
        self._say(f"\n[{request.server}] {request.message}")
        try:
            if request.mode == "url":
                self._say(f"  open: {request.url}")
                return self._choice("Continue after opening it? [y]es / [n]o / [c]ancel: ")
            if not request.fields:
                return self._choice("Confirm? [y]es / [n]o / [c]ancel: ")
            decision = self._choice("Answer now? [y]es / [n]o / [c]ancel: ")
            if decision.action != "accept":
                return decision
            self._say("  (Enter keeps the value in brackets; /cancel stops)")
            for _ in range(_ATTEMPTS):
                content = self._form(request)
                try:
                    validate_content(request.schema, apply_defaults(request.schema, content))
                except UserError as err:
                    self._say(f"  {err}; please answer again")
                    continue
                return ElicitationResponse.accept(content)
        except _Cancelled:
            pass
        return ElicitationResponse.cancel()

    def _choice(self, prompt: str) -> ElicitationResponse:
        while True:
            answer = self._line(prompt).lower()
            if answer in ("", "y", "yes"):
                return ElicitationResponse.accept()
            if answer in ("n", "no"):
                return ElicitationResponse.decline()
            if answer in ("c", "cancel"):
                return ElicitationResponse.cancel()

    def _form(self, request: ElicitationRequest) -> dict[str, Value]:
        content: dict[str, Value] = {}
        required = set(request.required)
        for name, spec in request.fields.items():
            value = self._field(name, spec, name in required)
            if value is not None:
                content[name] = value
        return content

    def _field(self, name: str, spec: Mapping[str, Any], required: bool) -> Value:
        label = str(spec.get("title") or name)
        if spec.get("description"):
            label += f" ({spec['description']})"
        options = _options(spec)
        if options:
            self._say(f"  {label}{' *' if required else ''}:")
            for index, (value, title) in enumerate(options, 1):
                self._say(f"    {index}. {title}" + (f" [{value}]" if title != value else ""))
        default = spec.get("default")
        shown = f" [{_show(default)}]" if default is not None else ""
        prompt = (
            f"  {'choice' if options else label}{' *' if required and not options else ''}{shown}: "
        )
        for _ in range(_ATTEMPTS):
            text = self._line(prompt)
            if not text:
                if required and default is None:
                    self._say("    an answer is required")
                    continue
                return None
            try:
                return _parse(spec, text, options)
            except ValueError as err:
                self._say(f"    {err}")
        raise _Cancelled

    # ------------------------------------------------------------------ sampling
    async def approve_sampling(self, request: SamplingRequest) -> bool:
        """A :data:`~aiops_core.mcp.SamplingApprover` for the terminal."""
        return await anyio.to_thread.run_sync(self.approve_sampling_sync, request)

    def approve_sampling_sync(self, request: SamplingRequest) -> bool:
        """:meth:`approve_sampling`, blocking (runs in a worker thread)."""
        if self._before is not None:
            self._before()
        self._say(
            f"\n[{request.server}] asks the model to answer (up to {request.max_tokens} tokens):"
        )
        for line in request.text.splitlines()[:20]:
            self._say(f"  | {line}")
        try:
            return self._line("Allow? [y/N]: ").lower() in ("y", "yes")
        except _Cancelled:
            return False


def _options(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Choices of a single- or multi-select field as ``(value, title)``."""
    source: Mapping[str, Any] = (spec.get("items") or {}) if spec.get("type") == "array" else spec
    if "enum" in source:
        names = spec.get("enumNames") or source.get("enumNames") or source["enum"]
        return [(str(v), str(n)) for v, n in zip(source["enum"], names, strict=False)]
    for key in ("oneOf", "anyOf"):
        if key in source:
            return [(str(o["const"]), str(o.get("title", o["const"]))) for o in source[key]]
    return []


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _pick(text: str, options: list[tuple[str, str]]) -> str:
    text = text.strip()
    if text.isdigit() and 1 <= int(text) <= len(options):
        return options[int(text) - 1][0]
    for value, title in options:
        if text in (value, title):
            return value
    raise ValueError(f"choose 1-{len(options)} or a listed value")


def _parse(spec: Mapping[str, Any], text: str, options: list[tuple[str, str]]) -> Value:
    kind = spec.get("type")
    if kind == "array":
        return [_pick(part, options) for part in text.split(",") if part.strip()]
    if options:
        return _pick(text, options)
    if kind == "boolean":
        if text.lower() in ("y", "yes", "true", "1"):
            return True
        if text.lower() in ("n", "no", "false", "0"):
            return False
        raise ValueError("answer yes or no")
    if kind == "integer":
        try:
            return int(text)
        except ValueError:
            raise ValueError("a whole number, please") from None
    if kind == "number":
        try:
            return float(text)
        except ValueError:
            raise ValueError("a number, please") from None
    return text
