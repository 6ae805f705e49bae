"""``retry``: exponential backoff with jitter on retryable provider errors.

Retryable means :attr:`ProviderError.retryable` (rate limit, timeout, connection, 5xx). The
delay before retry *n* is ``initial_delay * multiplier ** (n - 1)``, capped at ``max_delay``,
with jitter drawn from its upper half; a :class:`RateLimitError` with ``retry_after`` waits at
least that long. The run gives up, re-raising the last error, after ``max_attempts`` calls or
when the next wait would take the total past ``max_total_delay``.

A streamed call is retried only while nothing has been streamed yet, so a retry before the first
token is invisible to the user; a failure after it propagates.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator

import anyio
from pydantic import Field, model_validator

from .._types import ModelHandler, StreamHandler
from ..errors import ProviderError, RateLimitError
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent
from .base import Middleware, MiddlewareConfig

__all__ = ["RetryConfig", "RetryMiddleware"]

log = logging.getLogger("aiops_core.middleware.retry")

sleep = anyio.sleep
"""The sleep used between attempts (module-level so tests can observe the waits)."""


class RetryConfig(MiddlewareConfig):
    """Config of the ``retry`` middleware."""

    max_attempts: int = Field(3, ge=1, le=20, description="calls in total, the first included")
    initial_delay: float = Field(0.5, ge=0, description="seconds before the first retry")
    multiplier: float = Field(2.0, ge=1, description="growth of the delay per retry")
    max_delay: float = Field(20.0, ge=0, description="longest single wait")
    max_total_delay: float = Field(60.0, ge=0, description="longest total waiting per model call")
    jitter: bool = Field(True, description="randomise each wait within its upper half")

    @model_validator(mode="after")
    def _check(self) -> RetryConfig:
        if self.max_delay < self.initial_delay:
            raise ValueError("max_delay must be at least initial_delay")
        return self


class RetryMiddleware(Middleware[RetryConfig]):
    """Retries retryable provider errors with exponential backoff and jitter."""

    name = "retry"

    def setup(self) -> None:
        self.retries = 0

    def _delay(self, attempt: int, err: ProviderError) -> float:
        cfg = self.config
        base = min(cfg.max_delay, cfg.initial_delay * cfg.multiplier ** (attempt - 1))
        delay = base / 2 + random.uniform(0, base / 2) if cfg.jitter else base
        if isinstance(err, RateLimitError) and err.retry_after:
            delay = max(delay, err.retry_after)
        return delay

    async def _should_retry(self, attempt: int, err: ProviderError, waited: float) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` to give up."""
        if not err.retryable or attempt >= self.config.max_attempts:
            return None
        delay = self._delay(attempt, err)
        if waited + delay > self.config.max_total_delay:
            log.warning(
                "retry: giving up on %s, next wait %.2fs exceeds max_total_delay",
                type(err).__name__,
                delay,
            )
            return None
        self.retries += 1
        if self.context is not None:
            self.context.state["retries"] = self.context.state.get("retries", 0) + 1
        log.warning(
            "retry: attempt %d/%d failed with %s; retrying in %.2fs",
            attempt,
            self.config.max_attempts,
            type(err).__name__,
            delay,
        )
        return delay

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                return await call_next(request)
            except ProviderError as err:
                delay = await self._should_retry(attempt, err, waited)
                if delay is None:
                    raise
            waited += delay
            await sleep(delay)

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            started = False
            try:
                async for event in call_next(request):
                    started = True
                    yield event
                return
            except ProviderError as err:
                delay = None if started else await self._should_retry(attempt, err, waited)
                if delay is None:
                    raise
            waited += delay
            await sleep(delay)
