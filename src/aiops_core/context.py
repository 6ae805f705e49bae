"""Per-run context shared by the loop, middleware, tools and providers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic

from typing_extensions import TypeVar

from .messages import Usage

if TYPE_CHECKING:
    from ._types import ModelHandler

__all__ = ["DepsT", "RunContext"]

DepsT = TypeVar("DepsT", default=Any)
"""The type of a run's dependencies object (``RunContext[MyDeps]``)."""


@dataclass(slots=True)
class RunContext(Generic[DepsT]):
    """What one run knows about itself.

    A fresh context is created for every run; nothing in it is shared between runs.

    Attributes:
        run_id: unique id of this run.
        thread_id: conversation id, when the run belongs to a stored thread.
        user: the person the run acts for (cache and rate-limit scope, store owner).
        tenant: an optional wider scope than the user.
        model: ``provider:model`` label of the model in use.
        model_settings: the model's configured parameters (temperature, thinking, reasoning
            effort, ...), as its ``default_settings``; part of the response cache key.
        metadata: free-form values from the caller (for example a Nautobot request id).
        step: the current model step, starting at 1.
        usage: usage so far in this run.
        warnings: operator-facing warnings (skipped middleware, degraded store).
        state: scratch space for middleware that must share state within one run.
        model_call: the run's model call through its middleware chain (set by the agent; MCP
            sampling requests made during the run's tool calls use it).
        input_answers: answers a person gave to servers' questions (elicitation), by the
            question's :func:`~aiops_core.mcp.elicitation.fingerprint`, for a resumed turn.
        pause_for_input: a server's question pauses this run (``InputRequired``) instead of
            going to the pool's elicitation handler.
        deps: the dependencies object the caller passed (``agent.run(..., deps=...)``): a
            database handle, an API client, settings; annotate a tool's parameter
            ``RunContext[MyDeps]`` to have it typed.
        retries: tool name -> retries it asked for in a row (:class:`~aiops_core.errors.ModelRetry`).

    Approvals are not kept here: each approved call carries its own
    :class:`~aiops_core.approval.Approval` (see :attr:`ToolInvocation.approved
    <aiops_core.tools.ToolInvocation.approved>`), valid for that call on that resume only.
    """

    run_id: str = field(default_factory=lambda: os.urandom(16).hex())
    thread_id: str | None = None
    user: str | None = None
    tenant: str | None = None
    model: str = ""
    model_settings: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    step: int = 0
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    model_call: ModelHandler | None = field(default=None, repr=False, compare=False)
    input_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    pause_for_input: bool = False
    deps: DepsT = None  # type: ignore[assignment]  # None when the run was given none
    retries: dict[str, int] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        """Cache / rate-limit scope key: tenant and user when known, else ``"global"``."""
        if self.tenant or self.user:
            return f"{self.tenant or '-'}/{self.user or '-'}"
        return "global"
