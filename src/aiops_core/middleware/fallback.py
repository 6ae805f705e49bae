"""``model_fallback``: when the model fails, try the next ``"provider:model"`` in a list.

The run's own model is tried first (through the rest of the chain); on a
:class:`~aiops_core.errors.ProviderError` each fallback model is tried in turn, called directly
(middleware placed inside this one, with a higher priority number, does not see fallback calls).
Which errors switch models is configurable: any provider error (default), or only retryable
ones. A fallback answer adds a warning to the run result. Streamed calls fall back only while
nothing has been streamed.

Fallback models are created when needed and closed right after the call, so an unused fallback
costs nothing.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Literal

from pydantic import Field, field_validator

from .._types import ModelHandler, StreamHandler
from ..errors import ProviderError, UnknownNameError
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent
from ..providers.registry import get_chat_model, get_provider
from .base import Middleware, MiddlewareConfig

__all__ = ["ModelFallbackConfig", "ModelFallbackMiddleware"]

log = logging.getLogger("aiops_core.middleware.fallback")


class ModelFallbackConfig(MiddlewareConfig):
    """Config of the ``model_fallback`` middleware."""

    models: list[str] = Field(
        default_factory=list,
        description='fallback models in order, "provider:model" (empty: no fallback)',
    )
    on: Literal["any", "retryable"] = Field(
        "any", description="which provider errors switch models"
    )

    @field_validator("models")
    @classmethod
    def _providers_known(cls, value: list[str]) -> list[str]:
        for spec in value:
            try:
                get_provider(spec.partition(":")[0].strip())
            except UnknownNameError as err:
                raise ValueError(str(err)) from None
        return value


class ModelFallbackMiddleware(Middleware[ModelFallbackConfig]):
    """On provider errors, tries the next "provider:model" in a list."""

    name = "model_fallback"

    def setup(self) -> None:
        self.used: str | None = None

    def _switches(self, err: ProviderError) -> bool:
        return self.config.on == "any" or err.retryable

    def _note(self, failed: str, err: ProviderError, used: str) -> None:
        self.used = used
        warning = f"model {failed!r} failed ({type(err).__name__}); answered by fallback {used!r}"
        log.warning(warning)
        if self.context is not None:
            self.context.warnings.append(warning)
            self.context.state["model_fallback"] = used

    def _primary(self, request: ModelRequest) -> str:
        ctx = request.context or self.context
        return ctx.model if ctx is not None and ctx.model else "primary"

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        try:
            return await call_next(request)
        except ProviderError as err:
            if not self._switches(err):
                raise
            failed, last = self._primary(request), err
        for spec in self.config.models:
            model = get_chat_model(spec)
            try:
                response = await model.complete(request)
            except ProviderError as err:
                if not self._switches(err):
                    raise
                log.warning("model_fallback: %r failed too (%s)", spec, type(err).__name__)
                last = err
                continue
            finally:
                await model.aclose()
            self._note(failed, last, spec)
            return response
        raise last

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        started = False
        try:
            async for event in call_next(request):
                started = True
                yield event
            return
        except ProviderError as err:
            if started or not self._switches(err):
                raise
            failed, last = self._primary(request), err
        for spec in self.config.models:
            model = get_chat_model(spec)
            started = False
            try:
                async for event in model.stream(request):
                    if not started:
                        started = True
                        self._note(failed, last, spec)
                    yield event
                return
            except ProviderError as err:
                if started or not self._switches(err):
                    raise
                log.warning("model_fallback: %r failed too (%s)", spec, type(err).__name__)
                last = err
            finally:
                await model.aclose()
        raise last
