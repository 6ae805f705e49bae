"""What is recorded: one record per model call, per tool call and per run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..messages import Usage

if TYPE_CHECKING:
    from ..messages import AssistantMessage
    from ..providers.base import ModelRequest

__all__ = ["OK", "ModelCallRecord", "RunRecord", "ToolCallRecord", "outcome_of"]

OK = "ok"
"""The outcome of a call that succeeded; any other outcome is an error class name."""


def outcome_of(error: BaseException | None) -> str:
    """``"ok"``, or the error's class name (``"RateLimitError"``, ``"CancelledError"``)."""
    return OK if error is None else type(error).__name__


@dataclass(frozen=True, slots=True)
class ModelCallRecord:
    """One model call as the agent loop saw it (retries inside middleware included).

    Attributes:
        run_id / thread_id / user / tenant: whose call it was.
        model: ``provider:model`` label called; ``provider`` its first part.
        started_at: when the call started (UTC).
        latency: seconds until the response was complete (or the call failed).
        time_to_first_token: seconds until the first streamed delta (``None`` when not streaming
            or nothing was streamed).
        usage: tokens as the provider reported them (``cached_tokens`` apart).
        cost: dollars, frozen from the catalog at call time; ``None`` when the price is unknown.
        outcome: ``"ok"`` or the error class name.
        step: the model step of the run (1, 2, ...).
        streaming: whether the call streamed.
        fallback_from: the model a budget fell back from, if any.
        request / response: the call's messages, kept by reference for recorders that export
            message bodies when asked to (never stored by the built-in store recorder).
    """

    run_id: str
    model: str
    provider: str
    started_at: datetime
    latency: float
    usage: Usage
    cost: Decimal | None
    outcome: str = OK
    thread_id: str | None = None
    user: str | None = None
    tenant: str | None = None
    time_to_first_token: float | None = None
    step: int = 0
    streaming: bool = False
    fallback_from: str | None = None
    request: ModelRequest | None = field(default=None, repr=False, compare=False)
    response: AssistantMessage | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """One tool call: which tool on which server, how long, how it ended, how big its result.

    ``outcome`` is ``"ok"``, ``"tool_error"`` (the tool returned an error result to the model),
    ``"paused"`` (waiting for a person) or the class name of the error raised.
    """

    run_id: str
    tool: str
    started_at: datetime
    latency: float
    outcome: str = OK
    server: str | None = None
    result_chars: int = 0
    thread_id: str | None = None
    user: str | None = None
    tenant: str | None = None
    call_id: str = ""
    arguments: dict[str, Any] | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run: its model, steps, total usage and cost (``None`` if any call was unpriced)."""

    run_id: str
    model: str
    started_at: datetime
    latency: float
    usage: Usage
    cost: Decimal | None
    steps: int
    outcome: str = OK
    thread_id: str | None = None
    user: str | None = None
    tenant: str | None = None
