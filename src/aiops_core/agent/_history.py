"""The window of a long thread that a turn loads and sends (``Agent(history_limit=...)``).

A run loads only the thread's last ``history_limit`` messages (:meth:`CheckpointStore.load`
with ``last``), so its store cost and prompt stop growing with the thread. The window's start
moves in steps of half the limit, not one message per turn: between steps the request prefix
stays byte-identical and the provider's prompt cache keeps hitting. The window always starts on
a user message, so no tool result arrives without the call it answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..messages import Message, UserMessage

__all__ = ["history_window"]


def history_window(tail: Sequence[Message], total: int, limit: int) -> list[Message] | None:
    """The messages to send from ``tail`` (the last messages of a thread of ``total``).

    Returns ``None`` when the tail holds no user message to start on (one turn longer than the
    limit): the caller then loads the whole thread.
    """
    if total <= limit:
        return list(tail)
    step = max(1, limit // 2)
    first = total - len(tail)
    start = -(-first // step) * step  # the first step boundary inside the tail
    for index in range(start - first, len(tail)):
        if isinstance(tail[index], UserMessage):
            return list(tail[index:])
    return None
