"""Per-run context shared by the loop, middleware, tools and providers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .messages import Usage

__all__ = ["RunContext"]


@dataclass(slots=True)
class RunContext:
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

    @property
    def scope(self) -> str:
        """Cache / rate-limit scope key: tenant and user when known, else ``"global"``."""
        if self.tenant or self.user:
            return f"{self.tenant or '-'}/{self.user or '-'}"
        return "global"
