"""Fault injection beside a running load: wait for progress, break something, mend it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

from .load import Load

__all__ = ["inject"]


def inject(
    start: Callable[[], Awaitable[None] | None],
    until: Callable[[], Awaitable[None] | None],
    *,
    after_acks: int = 1,
) -> Callable[[Load], Awaitable[None]]:
    """A ``during`` callback: once ``after_acks`` turns are acknowledged, ``start`` the fault,
    then ``until`` (which waits for it to pass or ends it), recording the window in
    :attr:`Load.window`."""

    async def during(load: Load) -> None:
        with anyio.fail_after(120):
            while load.acked < after_acks:  # noqa: ASYNC110 - progress has no event
                await anyio.sleep(0.01)
        started = time.monotonic()
        outcome = start()
        if outcome is not None:
            await outcome
        outcome = until()
        if outcome is not None:
            await outcome
        load.window = (started, time.monotonic())

    return during
