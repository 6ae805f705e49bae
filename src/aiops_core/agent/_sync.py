"""Iterating an async stream from synchronous code (``stream_sync``, ``stream_text_sync``).

The stream runs as one task on an event loop in a helper thread (an anyio blocking portal), so
everything it opens (HTTP responses, task groups, cancel scopes) stays in that task; the events
cross to the caller through a memory stream without a buffer, so the run never gets ahead of
the caller. Leaving the loop early (``break``) cancels the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import anyio
from anyio.from_thread import start_blocking_portal

__all__ = ["iterate_sync"]

T = TypeVar("T")


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def iterate_sync(open_stream: Callable[[], AsyncIterator[T]]) -> Iterator[T]:
    """The items of the async iterator ``open_stream()`` returns, as a blocking iterator."""
    send, receive = anyio.create_memory_object_stream[Any](0)

    async def produce() -> None:
        async with send:
            try:
                async for item in open_stream():
                    await send.send(item)
            except anyio.get_cancelled_exc_class():
                raise
            except Exception as err:
                await send.send(_Failed(err))

    with start_blocking_portal() as portal:
        task = portal.start_task_soon(produce)
        try:
            while True:
                try:
                    item = portal.call(receive.receive)
                except anyio.EndOfStream:
                    break
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            task.cancel()
            portal.call(receive.aclose)
    if not task.cancelled():
        task.result()  # re-raise what ended the producer outside the stream (none expected)
