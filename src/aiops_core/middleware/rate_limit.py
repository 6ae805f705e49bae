"""``rate_limit``: token buckets for requests and tokens per minute, per user or per model.

Before each model call one request is taken from the request bucket and the request's estimated
input tokens from the token bucket; after the response the difference to the reported tokens is
charged. Buckets are keyed by ``key``: the run's user scope (``tenant/user``), the model, both, or
one global bucket.

When a bucket is empty the call waits for it (``on_limit="wait"``, up to ``max_wait`` seconds),
or raises :class:`~aiops_core.errors.UsageLimitExceeded` at once (``on_limit="raise"``). The
``redis`` backend shares the buckets between every worker; if Redis fails, calls pass
(``fail_open=True``, with a warning) or fail.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Literal

import anyio
from pydantic import Field, model_validator

from .._types import ModelHandler, StreamHandler
from ..errors import StoreUnavailableError, UsageLimitExceeded
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent, ResponseDone
from ._redis import redis_errors
from ._text import estimate_tokens
from .base import Middleware, MiddlewareConfig
from .rate_limit_backends import BucketBackend, shared_bucket_backend

__all__ = ["RateLimitConfig", "RateLimitMiddleware"]

log = logging.getLogger("aiops_core.middleware.rate_limit")


class RateLimitConfig(MiddlewareConfig):
    """Config of the ``rate_limit`` middleware."""

    requests_per_minute: int | None = Field(60, ge=1, description="model calls per minute per key")
    tokens_per_minute: int | None = Field(
        None, ge=1, description="tokens (in + out) per minute per key"
    )
    key: Literal["user", "model", "user_model", "global"] = Field(
        "user", description="what a bucket counts"
    )
    on_limit: Literal["wait", "raise"] = Field("wait", description="wait for the bucket, or raise")
    max_wait: float = Field(30.0, ge=0, description="longest wait per call before raising")
    backend: Literal["memory", "redis"] = "memory"
    url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL (redis backend)")
    key_prefix: str = "aiops:ratelimit:"
    fail_open: bool = Field(True, description="let calls pass when the backend fails")

    @model_validator(mode="after")
    def _something_limited(self) -> RateLimitConfig:
        if self.requests_per_minute is None and self.tokens_per_minute is None:
            raise ValueError(
                "set requests_per_minute or tokens_per_minute (or remove the middleware)"
            )
        return self


class RateLimitMiddleware(Middleware[RateLimitConfig]):
    """Token buckets for requests and tokens per minute, per user or model (memory or Redis)."""

    name = "rate_limit"

    def setup(self) -> None:
        self.buckets: BucketBackend = shared_bucket_backend(self.config.backend, self.config.url)
        self.waited = 0.0
        self._warned = False

    def _key(self, request: ModelRequest) -> str:
        ctx = request.context or self.context
        scope = ctx.scope if ctx is not None else "global"
        model = (ctx.model if ctx is not None else "") or "-"
        part = {"user": scope, "model": model, "user_model": f"{scope}|{model}", "global": "global"}
        return self.config.key_prefix + part[self.config.key]

    async def _take(self, key: str, per_minute: int, amount: float, debt: bool = False) -> float:
        try:
            return await self.buckets.take(key, float(per_minute), per_minute / 60.0, amount, debt)
        except redis_errors() as err:
            if not self.config.fail_open:
                raise StoreUnavailableError(
                    f"rate-limit backend failed: {type(err).__name__}"
                ) from err
            if not self._warned:
                self._warned = True
                warning = f"middleware 'rate_limit' bypassed: backend failed ({type(err).__name__})"
                log.warning(warning)
                if self.context is not None:
                    self.context.warnings.append(warning)
            return 0.0

    async def _acquire(self, key: str, what: str, per_minute: int, amount: float) -> None:
        amount = min(
            amount, float(per_minute)
        )  # a request larger than a minute's budget waits for a full bucket
        budget = self.config.max_wait
        while True:
            wait = await self._take(f"{key}:{what}", per_minute, amount)
            if wait <= 0:
                return
            if self.config.on_limit == "raise" or wait > budget:
                raise UsageLimitExceeded(
                    f"rate limit reached: {per_minute} {what} per minute; try again in {wait:.1f}s"
                )
            log.info("rate_limit: waiting %.2fs for %s", wait, what)
            self.waited += wait
            budget -= wait
            await anyio.sleep(wait)

    async def _before(self, request: ModelRequest) -> tuple[str, int]:
        key = self._key(request)
        cfg = self.config
        if cfg.requests_per_minute is not None:
            await self._acquire(key, "requests", cfg.requests_per_minute, 1.0)
        estimate = 0
        if cfg.tokens_per_minute is not None:
            estimate = estimate_tokens(request.messages)
            await self._acquire(key, "tokens", cfg.tokens_per_minute, float(estimate))
        return key, estimate

    async def _after(self, key: str, estimate: int, response: ModelResponse) -> None:
        per_minute = self.config.tokens_per_minute
        if per_minute is None:
            return
        charged = min(estimate, per_minute)
        actual = response.usage.total_tokens or estimate
        if actual != charged:  # negative amounts give back what was over-estimated
            await self._take(f"{key}:tokens", per_minute, float(actual - charged), debt=True)

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        key, estimate = await self._before(request)
        response = await call_next(request)
        await self._after(key, estimate, response)
        return response

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        key, estimate = await self._before(request)
        async for event in call_next(request):
            if isinstance(event, ResponseDone):
                await self._after(key, estimate, event.response)
            yield event
