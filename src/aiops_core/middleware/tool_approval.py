"""``tool_approval``: pause the run until a person approves tool calls that change things.

A call needs approval when its tool name matches one of ``tools`` (shell-style globs such as
``"*_create"`` or ``"nautobot.*"``) or, with ``writes=True``, when the tool is labelled
``metadata={"writes": True}``. Such a call raises :class:`~aiops_core.errors.ApprovalRequired`;
the agent stores the turn and returns ``RunResult(status="pending_approval", pending=...)``.
``await agent.resume(thread_id=..., approve=[ids], reject=[ids])`` then claims the paused run
(once: a second resume of it fails), runs the approved calls and continues; rejected calls become
tool errors. An approval covers exactly the call that was approved, on that resume
(``invocation.approved``): a later call that reuses its id, or one with other arguments, asks
again.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Annotated

from pydantic import Field

from .._types import ToolHandler
from ..errors import ApprovalRequired
from ..messages import ToolResultMessage
from ..tools import ToolInvocation
from ._fields import template
from .base import Middleware, MiddlewareConfig

__all__ = ["ToolApprovalConfig", "ToolApprovalMiddleware"]


class ToolApprovalConfig(MiddlewareConfig):
    """Config of the ``tool_approval`` middleware."""

    tools: list[str] = Field(default_factory=list, description="tool-name globs that need approval")
    writes: bool = Field(True, description='tools with metadata {"writes": true} need approval')
    exempt: list[str] = Field(
        default_factory=list, description="tool-name globs that never need it"
    )
    reason: Annotated[str, template(tool="x")] = Field(
        "Tool {tool!r} changes data and needs approval", description="shown to the approver; {tool}"
    )


class ToolApprovalMiddleware(Middleware[ToolApprovalConfig]):
    """Pauses the run until a person approves tool calls that write."""

    name = "tool_approval"

    def needs_approval(self, invocation: ToolInvocation) -> bool:
        """Whether this call must be approved by a person before it runs."""
        name = invocation.call.name
        cfg = self.config
        if any(fnmatchcase(name, p) for p in cfg.exempt):
            return False
        if any(fnmatchcase(name, p) for p in cfg.tools):
            return True
        tool = invocation.tool
        return bool(cfg.writes and tool is not None and tool.metadata.get("writes"))

    async def wrap_tool_call(
        self, invocation: ToolInvocation, call_next: ToolHandler
    ) -> ToolResultMessage:
        if not invocation.approved and self.needs_approval(invocation):
            raise ApprovalRequired(self.config.reason.format(tool=invocation.call.name))
        return await call_next(invocation)
