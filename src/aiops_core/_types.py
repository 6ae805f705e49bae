"""Callable shapes, named once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from .messages import ToolResultMessage
    from .providers.base import ModelRequest, ModelResponse, ModelStreamEvent
    from .tools import ToolInvocation

ToolFunc: TypeAlias = Callable[..., Any]
"""A user's tool function, sync or async."""

ModelHandler: TypeAlias = "Callable[[ModelRequest], Awaitable[ModelResponse]]"
"""The next step of the model-call onion: ``await call_next(request)``."""

StreamHandler: TypeAlias = "Callable[[ModelRequest], AsyncIterator[ModelStreamEvent]]"
"""The next step of the streaming onion: ``async for event in call_next(request)``."""

ToolHandler: TypeAlias = "Callable[[ToolInvocation], Awaitable[ToolResultMessage]]"
"""The next step of the tool-call onion: ``await call_next(invocation)``."""
