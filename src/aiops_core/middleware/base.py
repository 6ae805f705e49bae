"""The ``Middleware`` base class and ``MiddlewareSpec``.

A middleware wraps every model call and every tool call of a run. Override the ``wrap_*``
methods for full control (answer without calling ``call_next``, call it several times, change the
request or the response), or the ``before_*`` / ``after_*`` conveniences for the common cases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .._types import ModelHandler, StreamHandler, ToolHandler
from ..errors import UserError
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent, ResponseDone

if TYPE_CHECKING:
    from ..context import RunContext
    from ..messages import ToolResultMessage
    from ..tools import ToolInvocation

__all__ = ["Middleware", "MiddlewareConfig", "MiddlewareSpec"]


class MiddlewareConfig(BaseModel):
    """Base of every middleware's config schema: unknown keys are errors, defaults work."""

    model_config = ConfigDict(extra="forbid")


class Middleware:
    """Base class of all middleware.

    Class attributes:
        name: the registry name (``"retry"``); used for ordering ties and in messages.
        Config: the pydantic config schema; ``self.config`` is an instance of it.

    A new instance is built for every run, with the run's :class:`RunContext`, so instance
    attributes are private to one run of one conversation.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[MiddlewareConfig]] = MiddlewareConfig

    def __init__(self, config: MiddlewareConfig | None = None, context: RunContext | None = None):
        self.config = config if config is not None else self.Config()
        self.context = context

    # -- whole run ---------------------------------------------------------------------------
    async def before_run(self, context: RunContext) -> None:
        """Called once before the first model call of a run."""

    async def after_run(self, context: RunContext, output: Any) -> None:
        """Called once after a run finished successfully."""

    # -- model calls -------------------------------------------------------------------------
    async def before_model(self, request: ModelRequest) -> ModelRequest | None:
        """Return a changed request, or ``None`` to keep it."""
        return None

    async def after_model(
        self, request: ModelRequest, response: ModelResponse
    ) -> ModelResponse | None:
        """Return a changed response, or ``None`` to keep it."""
        return None

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        """Wrap one (non-streaming) model call."""
        request = await self.before_model(request) or request
        response = await call_next(request)
        return await self.after_model(request, response) or response

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        """Wrap one streaming model call.

        The default applies :meth:`before_model` to the request and :meth:`after_model` to the
        final :class:`ResponseDone`; deltas pass through unchanged. Middleware that must change
        streamed text (redaction) or replace the stream (a cache hit) overrides this.
        """
        request = await self.before_model(request) or request
        async for event in call_next(request):
            if isinstance(event, ResponseDone):
                changed = await self.after_model(request, event.response)
                yield ResponseDone(changed) if changed is not None else event
            else:
                yield event

    # -- tool calls --------------------------------------------------------------------------
    async def wrap_tool_call(
        self, invocation: ToolInvocation, call_next: ToolHandler
    ) -> ToolResultMessage:
        """Wrap one tool call."""
        return await call_next(invocation)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


def _overrides(cls: type[Middleware], *names: str) -> bool:
    return any(getattr(cls, n) is not getattr(Middleware, n) for n in names)


def wraps_model(cls: type[Middleware]) -> bool:
    """Whether a middleware class takes part in model calls (others are skipped there)."""
    return _overrides(cls, "wrap_model_call", "before_model", "after_model")


def wraps_stream(cls: type[Middleware]) -> bool:
    return _overrides(cls, "wrap_model_stream", "before_model", "after_model")


def wraps_tool(cls: type[Middleware]) -> bool:
    return _overrides(cls, "wrap_tool_call")


@dataclass(frozen=True, slots=True)
class MiddlewareSpec:
    """How to build one middleware for each run.

    Args:
        type: registry name (``"retry"``) or a :class:`Middleware` subclass.
        priority: 1 (outermost) to 100 (innermost); ties order by type name.
        config: values for the type's config schema.
        active: inactive specs are ignored.
        critical: if building it fails, the run fails; otherwise it is skipped with a warning.
    """

    type: str | type[Middleware]
    priority: int = 50
    config: Mapping[str, Any] = field(default_factory=dict)
    active: bool = True
    critical: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise UserError(f"MiddlewareSpec {self.type_name!r}: priority must be an integer 1-100")
        if not 1 <= self.priority <= 100:
            raise UserError(
                f"MiddlewareSpec {self.type_name!r}: priority must be between 1 and 100, "
                f"got {self.priority}"
            )
        if not isinstance(self.config, Mapping):
            raise UserError(f"MiddlewareSpec {self.type_name!r}: config must be a mapping")

    @property
    def type_name(self) -> str:
        if isinstance(self.type, str):
            return self.type
        return self.type.name or self.type.__name__
