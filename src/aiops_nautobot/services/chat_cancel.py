"""Stopping a streamed chat turn from another request (the chat page's stop button).

``POST chat/cancel/`` sets a short-lived flag in Nautobot's cache (Redis, shared by every worker
process), keyed by the user and the thread. The worker streaming that turn polls the flag while
the turn runs and cancels it on the engine loop: the engine stores nothing of a cancelled turn,
and the stream ends with a ``cancelled`` event. A user can only stop their own turns: the key
holds their primary key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio

from .engine_loop import EngineLoop

__all__ = [
    "POLL_SECONDS",
    "TurnCancellation",
    "request_cancel",
    "until_cancelled",
    "watch_turn",
]

POLL_SECONDS = 0.2
"""How often a running turn looks for a stop request."""

_FLAG_SECONDS = 300
"""Lifetime of a stop request that no running turn picked up."""


def _key(owner: Any, thread_id: str) -> str:
    return f"aiops:chat-cancel:{owner}:{thread_id}"


def request_cancel(user: Any, thread_id: str) -> None:
    """Ask the running turn of ``user`` on ``thread_id`` to stop (sync; any worker process)."""
    from django.core.cache import cache

    cache.set(_key(user.pk, thread_id), 1, timeout=_FLAG_SECONDS)


class TurnCancellation:
    """The stop switch of one running turn: a cancel scope on the loop and its watcher."""

    def __init__(self, owner: Any, thread_id: str) -> None:
        self.key = _key(owner, thread_id)
        self.cancelled = False
        self.finished = False
        self._scope: anyio.CancelScope | None = None

    async def watch(self, lifetime: float) -> None:
        """Poll the shared flag until it is set, then cancel the turn (runs on the loop)."""
        from django.core.cache import cache

        with anyio.move_on_after(lifetime + POLL_SECONDS):
            while not self.finished and not self.cancelled:
                await anyio.sleep(POLL_SECONDS)
                if await anyio.to_thread.run_sync(cache.get, self.key):
                    await anyio.to_thread.run_sync(cache.delete, self.key)
                    self.cancel()

    def cancel(self) -> None:
        """Stop the turn (on the loop): the wait for its next event is cancelled."""
        self.cancelled = True
        if self._scope is not None:
            self._scope.cancel()

    def _step_scope(self) -> anyio.CancelScope:
        scope = anyio.CancelScope()
        if self.cancelled:
            scope.cancel()
        self._scope = scope
        return scope


def watch_turn(
    owner: Any, thread_id: str, engine: EngineLoop, *, timeout: float
) -> TurnCancellation:
    """A :class:`TurnCancellation` whose watcher runs on the loop until the turn ends (sync).

    A stop request left over from an earlier turn of the thread is dropped first. The watcher
    ends with the stream (see :func:`until_cancelled`), and at the latest after ``timeout``.
    """
    from django.core.cache import cache

    turn = TurnCancellation(owner, thread_id)
    cache.delete(turn.key)
    engine.submit(turn.watch(timeout))
    return turn


async def until_cancelled(events: AsyncIterator[Any], turn: TurnCancellation) -> AsyncIterator[Any]:
    """``events`` until the turn is stopped (then the stream simply ends).

    Only the wait for the next event runs inside a cancel scope, never a ``yield``: a scope
    left open across a ``yield`` would cancel whatever the consumer awaits meanwhile.
    """
    iterator = aiter(events)
    try:
        while not turn.cancelled:
            with turn._step_scope():
                try:
                    event = await anext(iterator)
                except StopAsyncIteration:
                    return
            turn._scope = None
            if turn.cancelled:
                return
            yield event
    finally:
        turn.finished = True
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
