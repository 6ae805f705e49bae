"""Build the onion: fresh middleware instances per run, ordered by priority then name."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar, cast

from .._types import ModelHandler, StreamHandler, ToolHandler
from ..context import RunContext
from ..errors import AiopsError, MiddlewareError, UserError
from .base import (
    Middleware,
    MiddlewareConfig,
    MiddlewareSpec,
    wraps_model,
    wraps_stream,
    wraps_tool,
)
from .registry import parse_middleware_config

__all__ = ["MiddlewareChain", "ResolvedSpec", "build_chain", "resolve_specs"]

log = logging.getLogger("aiops_core.middleware")

H = TypeVar("H", ModelHandler, StreamHandler, ToolHandler)


@dataclass(frozen=True, slots=True)
class ResolvedSpec:
    """A validated spec: its class and parsed config."""

    spec: MiddlewareSpec
    cls: type[Middleware]
    config: MiddlewareConfig

    @property
    def name(self) -> str:
        return self.spec.type_name

    @property
    def sort_key(self) -> tuple[int, str]:
        return (self.spec.priority, self.name)


def resolve_specs(specs: Iterable[MiddlewareSpec | type[Middleware]]) -> list[ResolvedSpec]:
    """Validate specs (types exist, configs parse) and order them. Raises :class:`UserError`."""
    resolved = []
    for item in specs:
        spec = item if isinstance(item, MiddlewareSpec) else _spec_for(item)
        if not spec.active:
            continue
        cls, config = parse_middleware_config(spec)
        resolved.append(ResolvedSpec(spec, cls, config))
    return sorted(resolved, key=lambda r: r.sort_key)


def _spec_for(item: Any) -> MiddlewareSpec:
    if isinstance(item, type) and issubclass(item, Middleware):
        return MiddlewareSpec(item)
    if isinstance(item, Middleware):
        raise UserError(
            f"Pass middleware as MiddlewareSpec or class, not an instance ({type(item).__name__}): "
            "instances are built fresh for every run"
        )
    raise UserError(f"Not a middleware spec: {item!r}")


class MiddlewareChain:
    """The middleware of one run, composed once into call handlers."""

    def __init__(self, entries: list[tuple[ResolvedSpec, Middleware]]) -> None:
        self.entries = entries
        self.middleware = [m for _, m in entries]

    def model_handler(self, innermost: ModelHandler) -> ModelHandler:
        return self._compose(innermost, wraps_model, "wrap_model_call")

    def stream_handler(self, innermost: StreamHandler) -> StreamHandler:
        return self._compose(innermost, wraps_stream, "wrap_model_stream")

    def tool_handler(self, innermost: ToolHandler) -> ToolHandler:
        return self._compose(innermost, wraps_tool, "wrap_tool_call")

    def _compose(
        self, innermost: H, takes_part: Callable[[type[Middleware]], bool], method: str
    ) -> H:
        """``innermost`` wrapped by ``method`` of each middleware that takes part, outermost first."""
        handler = innermost
        for mw in reversed(self.middleware):
            if takes_part(type(mw)):
                handler = cast("H", partial(getattr(mw, method), call_next=handler))
        return handler

    async def before_run(self, context: RunContext) -> None:
        """Run each middleware's ``before_run``, outermost first.

        ``before_run`` is where a middleware finishes initialising (a connection, a model). An
        :class:`~aiops_core.errors.AiopsError` it raises is a decision (a refused request) and
        propagates. Any other failure is a broken middleware: a critical one aborts the run with
        :class:`MiddlewareError`; a non-critical one is dropped from this run with a warning.
        Call this before composing handlers, so a dropped middleware is not part of them.
        """
        kept: list[tuple[ResolvedSpec, Middleware]] = []
        for resolved, mw in self.entries:
            try:
                await mw.before_run(context)
            except AiopsError:
                raise
            except Exception as err:
                _fail(resolved, err, context, "failed to start")
                continue
            kept.append((resolved, mw))
        if len(kept) != len(self.entries):
            self.entries = kept
            self.middleware = [m for _, m in kept]

    async def after_run(self, context: RunContext, output: Any) -> None:
        for mw in reversed(self.middleware):
            await mw.after_run(context, output)

    def describe(self) -> list[dict[str, Any]]:
        """Order, priority, type and masked config of each middleware, outermost first."""
        return [
            {
                "order": i,
                "priority": r.spec.priority,
                "type": r.name,
                "critical": r.spec.critical,
                "config": r.config.masked(),
            }
            for i, (r, _) in enumerate(self.entries, 1)
        ]

    def describe_text(self) -> str:
        """:meth:`describe` as an aligned table."""
        return describe_text(self.describe())


def describe_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no middleware)"
    lines = ["order  priority  type               critical  config"]
    for row in rows:
        lines.append(
            f"{row['order']:<6} {row['priority']:<9} {row['type']:<18} "
            f"{'yes' if row['critical'] else 'no':<9} {row['config']}"
        )
    return "\n".join(lines)


def build_chain(resolved: Iterable[ResolvedSpec], context: RunContext) -> MiddlewareChain:
    """Instantiate fresh middleware for one run.

    A critical middleware that fails to build raises :class:`MiddlewareError`; a non-critical
    one is skipped, logged, and noted in ``context.warnings``.
    """
    entries = []
    for r in resolved:
        try:
            mw = r.cls(r.config, context)
        except Exception as err:
            _fail(r, err, context, "failed to build")
            continue
        entries.append((r, mw))
    return MiddlewareChain(entries)


def _fail(r: ResolvedSpec, err: Exception, context: RunContext, what: str) -> None:
    """Abort the run for a critical middleware; otherwise log, note in the result, and go on."""
    if r.spec.critical:
        raise MiddlewareError(
            f"Critical middleware {r.name!r} {what}: {type(err).__name__}: {err}", middleware=r.name
        ) from err
    warning = f"middleware {r.name!r} skipped: {what} ({type(err).__name__}: {err})"
    log.warning(warning)
    context.warnings.append(warning)
