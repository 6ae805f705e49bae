"""The ``Middleware`` base class and ``MiddlewareSpec``.

A middleware wraps every model call and every tool call of a run. Override the ``wrap_*``
methods for full control (answer without calling ``call_next``, call it several times, change the
request or the response), or the ``before_*`` / ``after_*`` conveniences for the common cases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, cast, get_args, get_origin

from pydantic import BaseModel, ConfigDict
from typing_extensions import TypeVar

from .._types import ModelHandler, StreamHandler, ToolHandler
from ..errors import AiopsError, UserError
from ..masking import mask_values
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    ModelStreamEvent,
    ResponseDone,
    response_events,
)

if TYPE_CHECKING:
    from ..context import RunContext
    from ..messages import ToolResultMessage
    from ..tools import ToolInvocation

__all__ = ["ConfigT", "Middleware", "MiddlewareConfig", "MiddlewareSpec", "response_events"]


class MiddlewareConfig(BaseModel):
    """Base of every middleware's config schema: unknown keys are errors, defaults work."""

    model_config = ConfigDict(extra="forbid")

    def masked(self) -> dict[str, Any]:
        """The config as JSON-like data with secret-looking values masked (for logs and CLIs)."""
        masked: dict[str, Any] = mask_values(self.model_dump(mode="json"))
        return masked

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Reprs end up in logs and tracebacks: show secret-looking values masked.
        yield from self.masked().items()


ConfigT = TypeVar("ConfigT", bound=MiddlewareConfig, default=MiddlewareConfig, covariant=True)
"""The config schema of a middleware: ``class Retry(Middleware[RetryConfig])``."""


class Middleware(Generic[ConfigT]):
    """Base class of all middleware.

    Name the config schema as the type parameter, and ``self.config`` is typed as it::

        class RetryMiddleware(Middleware[RetryConfig]):
            name = "retry"

    Class attributes:
        name: the registry name (``"retry"``); used for ordering ties and in messages.
        Config: the pydantic config schema (the type parameter unless set explicitly);
            ``self.config`` is an instance of it.

    A new instance is built for every run, with the run's :class:`RunContext`, so instance
    attributes are private to one run of one conversation. Prepare them in :meth:`setup`.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[MiddlewareConfig]] = MiddlewareConfig

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "Config" in vars(cls):
            return
        for base in vars(cls).get("__orig_bases__", ()):  # this class's own bases only
            args = get_args(base)
            origin = get_origin(base)
            if (
                isinstance(origin, type)
                and issubclass(origin, Middleware)
                and args
                and isinstance(args[0], type)
                and issubclass(args[0], MiddlewareConfig)
            ):
                cls.Config = args[0]
                return

    def __init__(self, config: ConfigT | None = None, context: RunContext | None = None) -> None:
        self.config: ConfigT = config if config is not None else cast("ConfigT", self.Config())
        self.context = context
        self.setup()

    def setup(self) -> None:
        """Prepare this run's state from ``self.config``; called once, when the run builds it.

        A failure here is a build failure: a critical middleware aborts the run, another one is
        skipped with a warning.
        """

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
        """Wrap one (non-streaming) model call.

        A middleware that overrides only :meth:`wrap_model_stream` (not this method nor the
        ``before_model`` / ``after_model`` hooks) takes part in complete calls too: its stream
        wrapper runs over the replayed response, and its final response is used.
        """
        cls = type(self)
        if _overrides(cls, "wrap_model_stream") and not _overrides(
            cls, "wrap_model_call", "before_model", "after_model"
        ):
            return await _call_through_stream(self, request, call_next)
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
        if _overrides(type(self), "wrap_model_call"):
            # A middleware written only for complete calls (a guard rail, a cache) must not be
            # bypassed when the run streams: run its wrap_model_call over a buffered stream.
            async for event in _stream_through_call(self, request, call_next):
                yield event
            return
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


_override_memo: dict[tuple[type[Middleware], tuple[str, ...]], bool] = {}


def _overrides(cls: type[Middleware], *names: str) -> bool:
    # Memoised: asked on every run and every call, and a class's methods do not change.
    key = (cls, names)
    found = _override_memo.get(key)
    if found is None:
        found = _override_memo[key] = any(
            getattr(cls, n) is not getattr(Middleware, n) for n in names
        )
    return found


async def _call_through_stream(
    mw: Middleware, request: ModelRequest, call_next: ModelHandler
) -> ModelResponse:
    async def replay(req: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        for event in response_events(await call_next(req)):
            yield event

    response: ModelResponse | None = None
    async for event in mw.wrap_model_stream(request, replay):
        if isinstance(event, ResponseDone):
            response = event.response
    if response is None:
        raise AiopsError(f"middleware {mw.name or type(mw).__name__!r} ended without a response")
    return response


async def _stream_through_call(
    mw: Middleware, request: ModelRequest, call_next: StreamHandler
) -> AsyncIterator[ModelStreamEvent]:
    """Run ``mw.wrap_model_call`` with a ``call_next`` that drains the inner stream.

    The events of the last inner stream are replayed when the middleware returns that stream's
    response unchanged; a changed or replaced response is replayed from the response itself.
    """
    last: list[ModelStreamEvent] = []

    async def drain(req: ModelRequest) -> ModelResponse:
        # Consumed to the end (ResponseDone is the last event), so the inner stream closes.
        events = [event async for event in call_next(req)]
        done = events[-1] if events else None
        if not isinstance(done, ResponseDone):
            raise AiopsError("model stream ended without a response")
        last[:] = events
        return done.response

    response = await mw.wrap_model_call(request, drain)
    done = last[-1] if last else None
    replay = last if isinstance(done, ResponseDone) and done.response is response else None
    for event in replay or response_events(response):
        yield event


def wraps_model(cls: type[Middleware]) -> bool:
    """Whether a middleware class takes part in model calls (others are skipped there)."""
    return _overrides(cls, "wrap_model_call", "wrap_model_stream", "before_model", "after_model")


def wraps_stream(cls: type[Middleware]) -> bool:
    """Whether a middleware class takes part in streaming model calls.

    A class that overrides only ``wrap_model_call`` takes part too (through a buffered adapter),
    so no guard rail is silently skipped when a run streams.
    """
    return _overrides(cls, "wrap_model_stream", "wrap_model_call", "before_model", "after_model")


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
        for flag in ("active", "critical"):
            if not isinstance(getattr(self, flag), bool):
                raise UserError(f"MiddlewareSpec {self.type_name!r}: {flag} must be true or false")
        if not isinstance(self.config, Mapping):
            raise UserError(f"MiddlewareSpec {self.type_name!r}: config must be a mapping")

    @property
    def type_name(self) -> str:
        if isinstance(self.type, str):
            return self.type
        return self.type.name or self.type.__name__
