"""Tool calls paused for approval (the ``tool_approval`` middleware) at the command line.

A paused run is shown with its pending calls. On a terminal the person is asked to approve or
reject each one and the run continues; otherwise the command says how to decide later
(``aiops threads approve|reject THREAD CALL_ID ...``) and exits with
:attr:`~aiops_core.cli._errors.ExitCode.PENDING_APPROVAL`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._term import Term

if TYPE_CHECKING:
    from ..agent import Agent, RunResult
    from ..agent.result import PendingApproval
    from ..checkpoint.base import ThreadInfo

__all__ = [
    "ask_decisions",
    "continue_flags",
    "pending_of",
    "resume",
    "show_pending",
]

PENDING_KEY = "pending_approval"
"""Where a paused run keeps its state in the thread's metadata."""


def pending_of(info: ThreadInfo | None) -> PendingApproval | None:
    """The paused run stored in a thread, if any."""
    from ..agent.result import PendingApproval

    data = info.metadata.get(PENDING_KEY) if info is not None else None
    return PendingApproval.from_dict(data) if data else None


def show_pending(term: Term, pending: PendingApproval) -> None:
    """List the calls that await a decision."""
    term.out.write(term.style("Paused: these tool calls need approval:", "yellow", "bold") + "\n")
    for call in pending.calls:
        reason = pending.reasons.get(call.id)
        args = json.dumps(call.arguments, default=str)
        term.out.write(f"  {term.style(call.id, 'bold')}  {call.name}({args})")
        term.out.write(term.style(f"  {reason}", "dim") + "\n" if reason else "\n")
    term.out.flush()


def continue_flags(args: Any) -> str:
    """The agent flags of this command, to repeat in the command that continues it."""
    flags: list[str] = []
    for name in ("config", "model", "store", "system"):
        value = getattr(args, name, None)
        if value:
            flags += [f"--{name}", value]
    if getattr(args, "tools", "none") != "none":
        flags += ["--tools", args.tools]
    if getattr(args, "user", None):
        flags += ["--user", args.user]
    return shlex.join(flags)


def ask_decisions(
    term: Term, pending: PendingApproval, read: Callable[[str], str] = input
) -> tuple[list[str], list[str]]:
    """Ask about each pending call on the terminal; returns (approved ids, rejected ids).

    ``y`` approves, ``n`` (or an empty answer) rejects, ``a`` approves this and every later call,
    ``r`` rejects the rest. End of input rejects what is left.
    """
    approve: list[str] = []
    reject: list[str] = []
    rest: str | None = None
    for call in pending.calls:
        if rest is None:
            question = term.style(
                f"approve {call.name} ({call.id})? [y/N/a(ll)/r(eject rest)] ", "bold"
            )
            try:
                answer = read(question).strip().lower()
            except EOFError:
                answer = "r"
            if answer in ("a", "all"):
                rest = "y"
            elif answer in ("r", "reject"):
                rest = "n"
            choice = rest or ("y" if answer in ("y", "yes") else "n")
        else:
            choice = rest
        (approve if choice == "y" else reject).append(call.id)
    return approve, reject


async def resume(
    agent: Agent,
    term: Term,
    *,
    thread_id: str | None,
    pending: PendingApproval,
    approve: Sequence[str],
    reject: Sequence[str],
    user: str | None = None,
    reason: str | None = None,
) -> RunResult:
    """Continue a paused run with the decisions and print what it did and said."""
    from ._session import show_tool_results

    tools = {t.name for t in await agent.list_tools()}
    missing = sorted({c.name for c in pending.calls if c.id in approve} - tools)
    if missing:
        from ..errors import UserError

        raise UserError(
            f"Approved tool(s) {', '.join(missing)} are not available to this agent: repeat the "
            "flags of the paused run (--tools, --config) so the calls can run"
        )
    kwargs: dict[str, Any] = {"approve": list(approve), "reject": list(reject), "user": user}
    if reason:
        kwargs["reason"] = reason
    if thread_id is not None:
        kwargs["thread_id"] = thread_id
    else:
        kwargs["pending"] = pending
    for call_id in approve:
        term.note(f"approved {call_id}", "green")
    for call_id in reject:
        term.note(f"rejected {call_id}", "red")
    with term.spinning("continuing"):
        result = await agent.resume(**kwargs)
    show_tool_results(result, term, skip=len(pending.messages))
    if result.output is not None:
        text = result.output if isinstance(result.output, str) else json.dumps(result.output)
        term.out.write(text + "\n")
        term.out.flush()
    return result
