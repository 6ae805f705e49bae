"""Running one step's tool calls through the middleware chain, concurrently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import anyio

from ..errors import ApprovalRequired
from ..messages import ToolResultMessage
from ..tools import ToolInvocation

if TYPE_CHECKING:
    from .._types import ToolHandler
    from ..usage.observer import RunObserver
    from ._run import Run

__all__ = ["observe_calls", "run_calls"]


def observe_calls(run: Run, observer: RunObserver) -> None:
    """Wrap the run's composed model, stream and tool handlers (the whole middleware chain) for
    usage records and budgets; a budget's fallback model gets a chain of its own."""
    chain, model_for = run.chain, observer.tracking.model
    run._call_model = observer.model_handler(
        run._call_model, lambda label: chain.model_handler(model_for(label).complete)
    )
    run.ctx.model_call = run._call_model
    if run._stream_model is not None:
        run._stream_model = observer.stream_handler(
            run._stream_model, lambda label: chain.stream_handler(model_for(label).stream)
        )
    run._call_tool = observer.tool_handler(run._call_tool)


async def run_calls(
    handler: ToolHandler, invocations: Sequence[ToolInvocation]
) -> tuple[dict[str, ToolResultMessage], dict[str, ApprovalRequired]]:
    """Run the invocations concurrently.

    Returns:
        The results by call id, and the calls paused for a person (call id -> the signal: an
        approval a middleware asks for, or a server's question, ``InputRequired``). The first
        exception a handler raised (not a tool's own failure, which is a result) is raised once
        all calls have ended.
    """
    results: dict[str, ToolResultMessage] = {}
    pending: dict[str, ApprovalRequired] = {}
    errors: list[Exception] = []

    async def one(invocation: ToolInvocation) -> None:
        call_id = invocation.call.id
        try:
            results[call_id] = await handler(invocation)
        except ApprovalRequired as signal:
            pending[call_id] = signal
        except Exception as err:
            errors.append(err)

    if len(invocations) == 1:
        await one(invocations[0])
    else:
        async with anyio.create_task_group() as group:
            for invocation in invocations:
                group.start_soon(one, invocation)
    if errors:
        raise errors[0]
    return results, pending
