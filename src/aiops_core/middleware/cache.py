"""``cache``: answer repeated model requests from a response cache.

The key is a SHA-256 of the model, its configured parameters (thinking and reasoning settings
too: the same question asked with another budget or effort is another request), the normalised
messages (thinking parts included), the tool definitions, the request settings and the output
schema, prefixed by the run's scope (``tenant/user``) when the run has
one, so one user's answers never reach another. Only successful responses are stored: errors
propagate and nothing is written.

Backends (``memory`` or ``redis``) are process-wide, one per backend configuration, and shared
across runs; the middleware instance is still built fresh for each run. A failing Redis never
fails a run: the call goes to the model and a warning is noted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

from pydantic import Field
from pydantic_core import to_json

from .._types import ModelHandler, StreamHandler
from ..messages import AssistantMessage, Message, Usage
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent, ResponseDone
from ._redis import redis_errors
from .base import Middleware, MiddlewareConfig, response_events
from .cache_backends import CacheBackend, shared_cache_backend

__all__ = ["CacheConfig", "CacheMiddleware", "cache_key"]

log = logging.getLogger("aiops_core.middleware.cache")


class CacheConfig(MiddlewareConfig):
    """Config of the ``cache`` middleware."""

    backend: Literal["memory", "redis"] = Field("memory", description="where entries live")
    url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL (redis backend)")
    ttl: float = Field(3600.0, gt=0, description="seconds an entry lives")
    max_entries: int = Field(1000, ge=1, description="entries kept (memory backend, LRU)")
    key_prefix: str = Field("aiops:cache:", description="prefix of every key")
    scope: Literal["run", "global"] = Field(
        "run", description="'run': per tenant/user when the run has one; 'global': shared by all"
    )


def _normalise(message: Message) -> dict[str, Any]:
    data = message.model_dump(mode="json", exclude_defaults=True)
    content = data.get("content")
    if isinstance(content, str):
        data["content"] = " ".join(content.split())
    return data


def cache_key(
    request: ModelRequest,
    *,
    model: str,
    scope: str,
    model_settings: Mapping[str, Any] | None = None,
) -> str:
    """The cache key of a request (hex SHA-256 prefixed by the scope).

    Args:
        request: the model request.
        model: the ``provider:model`` label.
        scope: the cache scope (``tenant/user`` or ``global``).
        model_settings: the model's configured parameters (``RunContext.model_settings``).
    """
    payload = {
        "model": model,
        "model_settings": sorted((model_settings or {}).items()),
        "messages": [_normalise(m) for m in request.messages],
        # Shallow tuples: asdict() would deep-copy every tool schema on every model call.
        "tools": [(t.name, t.description, t.parameters) for t in request.tools],
        "settings": sorted(request.settings.items()),
        "output": (
            (request.output_schema.name, request.output_schema.json_schema)
            if request.output_schema
            else None
        ),
    }
    # Every dict here comes from a schema (fixed key order) except settings, sorted above.
    digest = hashlib.sha256(to_json(payload, fallback=str)).hexdigest()
    return f"{scope}:{digest}"


def _dump(response: ModelResponse) -> str:
    return to_json(
        {
            "message": response.message.model_dump(mode="json"),
            "usage": response.usage.model_dump(),
            "finish_reason": response.finish_reason,
            "model": response.model,
        }
    ).decode()


def _load(text: str) -> ModelResponse:
    data = json.loads(text)
    usage = Usage.model_validate(data["usage"])
    return ModelResponse(
        message=AssistantMessage.model_validate(data["message"]),
        # A hit costs no tokens; what the answer cost once is reported as cached tokens.
        usage=Usage(cached_tokens=usage.total_tokens),
        finish_reason=data.get("finish_reason"),
        model=data.get("model"),
    )


class CacheMiddleware(Middleware[CacheConfig]):
    """Answers repeated model requests from a response cache (memory or Redis), scoped per user."""

    name = "cache"

    def setup(self) -> None:
        cfg = self.config
        self.backend: CacheBackend = shared_cache_backend(
            cfg.backend, url=cfg.url, max_entries=cfg.max_entries
        )
        self.hits = 0
        self.misses = 0
        self._warned = False

    def _key(self, request: ModelRequest) -> str:
        ctx = request.context or self.context
        scope = ctx.scope if ctx is not None and self.config.scope == "run" else "global"
        model = ctx.model if ctx is not None else ""
        settings = ctx.model_settings if ctx is not None else None
        key = cache_key(request, model=model, scope=scope, model_settings=settings)
        return self.config.key_prefix + key

    def _degraded(self, err: BaseException) -> None:
        if self._warned:
            return
        self._warned = True
        warning = f"middleware 'cache' bypassed: backend failed ({type(err).__name__}: {err})"
        log.warning(warning)
        if self.context is not None:
            self.context.warnings.append(warning)

    async def _get(self, key: str) -> ModelResponse | None:
        try:
            text = await self.backend.get(key)
        except redis_errors() as err:
            self._degraded(err)
            return None
        if text is None:
            self.misses += 1
            return None
        try:
            response = _load(text)
        except (ValueError, KeyError) as err:  # an entry from an incompatible release
            log.warning("cache entry %s unreadable, ignored: %s", key[-12:], err)
            return None
        self.hits += 1
        if self.context is not None:
            self.context.state["cache_hits"] = self.context.state.get("cache_hits", 0) + 1
        return response

    async def _put(self, key: str, response: ModelResponse) -> None:
        if response.finish_reason in ("error", "content_filter"):
            return
        try:
            await self.backend.set(key, _dump(response), self.config.ttl)
        except redis_errors() as err:
            self._degraded(err)

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        key = self._key(request)
        cached = await self._get(key)
        if cached is not None:
            return cached
        response = await call_next(request)
        await self._put(key, response)
        return response

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        key = self._key(request)
        cached = await self._get(key)
        if cached is not None:
            for event in response_events(cached):
                yield event
            return
        async for event in call_next(request):
            if isinstance(event, ResponseDone):
                await self._put(key, event.response)
            yield event
