"""Running the tools' ORM work in worker threads that really run in parallel.

Django's ``sync_to_async(thread_sensitive=True)`` sends every call of a process through one
thread, one at a time, and a timeout cannot stop a query already running. Here each call runs in
a thread of anyio's pool (bounded per toolset by a capacity limiter), under PostgreSQL's
``statement_timeout`` equal to the tool timeout, and closes its database connections before the
thread is handed back. When the tool times out, the caller returns at once (the thread is
abandoned) and the database cancels the query at the same deadline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

__all__ = ["OrmWorkers"]

T = TypeVar("T")


class OrmWorkers:
    """Runs sync ORM functions in parallel worker threads.

    Args:
        workers: most calls of this toolset running at once.
        timeout: seconds; PostgreSQL's ``statement_timeout`` for the calls' queries.
    """

    def __init__(self, workers: int, timeout: float) -> None:
        self.workers = workers
        self.timeout = timeout
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, func: Callable[..., T], *args: Any) -> T:
        """``func(*args)`` in a worker thread; returns its result or raises its exception."""
        if self._limiter is None:  # created on the loop that uses it
            self._limiter = anyio.CapacityLimiter(self.workers)
        return await anyio.to_thread.run_sync(
            self._in_thread, func, args, limiter=self._limiter, abandon_on_cancel=True
        )

    def _in_thread(self, func: Callable[..., T], args: tuple[Any, ...]) -> T:
        from django.db import connection, connections

        try:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET statement_timeout = %s", [int(self.timeout * 1000)])
            return func(*args)
        finally:
            # The thread goes back to anyio's pool: leave no connection (or setting) behind.
            connections.close_all()
