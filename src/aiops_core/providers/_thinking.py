"""Which thinking parts go back to a provider.

Thinking is replayed only to the provider that wrote it: Anthropic verifies its signatures,
OpenAI decrypts its own reasoning items, and a part from another provider would be rejected or
read as something it is not. Within that provider, the parts of the current turn (everything
after the last user message: the tool-call loop in progress) always go back, because the APIs
require them there; parts of earlier turns go back only to the model that wrote them (or when the
model is unknown), since the APIs allow earlier reasoning to be left out and another model may
not accept it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..messages import AssistantMessage, Message, ThinkingPart, UserMessage

__all__ = ["own_thinking", "turn_start"]


def turn_start(messages: Sequence[Message]) -> int:
    """The index of the first message of the current turn (after the last user message)."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], UserMessage):
            return index + 1
    return 0


def own_thinking(
    message: AssistantMessage, provider: str, model: str | None, *, current: bool
) -> list[ThinkingPart]:
    """The thinking parts of ``message`` that go back to ``provider`` / ``model``.

    Args:
        message: an assistant message of the history.
        provider: the handler name of the model about to be called.
        model: its model name (``None``: any model of the provider).
        current: the message belongs to the current turn.
    """
    if not message.thinking:
        return []
    return [
        part
        for part in message.thinking
        if part.provider == provider
        and (current or model is None or part.model is None or part.model == model)
    ]
