"""Provider failures mapped to :mod:`aiops_core.errors`, in one place for every handler.

Handlers call :func:`map_error` at their boundary: it understands the Stainless-generated SDKs
(``openai``, ``anthropic``: ``APIStatusError``, ``APITimeoutError``, ``APIConnectionError``), plain
``httpx``/``httpx2`` transport errors and HTTP status errors (``huggingface_hub``), and Ollama's
``ResponseError``. Messages keep the provider's text and request id; the API key (in every quoted
form: see :class:`~aiops_core.masking.Scrubber`) is scrubbed.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

from ..errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    ModelNotFoundError,
    PermissionDeniedError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from ..masking import Scrubber

__all__ = ["error_for_status", "map_error", "parse_retry_after"]

_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "context window",
    "maximum context",
    "prompt is too long",
    "too many tokens",
    "input is too long",
    "exceeds the model",
    "prompt too long",
)
_TIMEOUT_NAMES = frozenset({"TimeoutException", "APITimeoutError", "InferenceTimeoutError"})
_CONNECTION_NAMES = frozenset({"TransportError", "APIConnectionError", "ConnectionError"})
_SDK_ERROR_NAMES = frozenset(
    {"APIError", "OpenAIError", "AnthropicError", "ResponseError", "TextGenerationError"}
)
"""SDK errors without an HTTP error status: error events inside a stream, invalid responses."""


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_for_status(
    status: int,
    message: str,
    *,
    provider: str,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProviderError:
    """The typed error for an HTTP status and the provider's message."""
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status_code": status,
        "request_id": request_id,
    }
    if status == 401:
        return AuthenticationError(message, **kwargs)
    if status == 403:
        return PermissionDeniedError(message, **kwargs)
    if status == 404:
        return ModelNotFoundError(message, **kwargs)
    if status == 429:
        return RateLimitError(message, retry_after=parse_retry_after(headers), **kwargs)
    if status in (400, 413, 422):
        lowered = message.lower()
        if status == 413 or any(hint in lowered for hint in _CONTEXT_HINTS):
            return ContextLengthError(message, **kwargs)
        return BadRequestError(message, **kwargs)
    if status == 408:
        return ProviderTimeoutError(message, **kwargs)
    if status >= 500:
        return ServerError(message, **kwargs)
    return BadRequestError(message, **kwargs)


def _body_message(body: Any) -> str | None:
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping):
            message = inner.get("message")
            return str(message) if message else None
        if isinstance(inner, str):
            return inner
        message = body.get("message")
        return str(message) if message else None
    if isinstance(body, str) and body:
        return body
    return None


def _response_message(response: Any) -> str | None:
    try:
        return _body_message(response.json())
    except Exception:  # not JSON, or a stream not read: fall back to the text
        try:
            text = response.text
        except Exception:  # an unread stream has no text
            return None
        return str(text)[:500] if text else None


def _error_kind(body: Any) -> str | None:
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("type"), str):
            return str(inner["type"])
    return None


def _class_names(err: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(err).__mro__}


def map_error(
    err: BaseException, *, provider: str, scrub: Scrubber | None = None
) -> ProviderError | None:
    """The typed error for a foreign exception, or ``None`` when it is not a provider failure.

    ``scrub`` removes the credentials (the API key) from the message should it quote them.
    """
    scrub = scrub or Scrubber()
    names = _class_names(err)
    response = getattr(err, "response", None)
    status = getattr(err, "status_code", None)
    if status is None and response is not None:
        status = getattr(response, "status_code", None)
    if isinstance(status, int) and status >= 400:
        headers = getattr(response, "headers", None) if response is not None else None
        request_id = getattr(err, "request_id", None)
        if request_id is None and headers is not None:
            request_id = headers.get("x-request-id") or headers.get("request-id")
        message = (
            _body_message(getattr(err, "body", None))
            or (_response_message(response) if response is not None else None)
            or _body_message(getattr(err, "error", None))
            or str(err)
        )
        return error_for_status(
            status,
            scrub(message),
            provider=provider,
            request_id=request_id,
            headers=headers,
        )
    if names & _TIMEOUT_NAMES:
        return ProviderTimeoutError(f"no answer in time ({type(err).__name__})", provider=provider)
    if names & _CONNECTION_NAMES:
        detail = scrub(str(err) or type(err).__name__)
        return ProviderConnectionError(f"connection failed: {detail}", provider=provider)
    if names & _SDK_ERROR_NAMES:
        # The HTTP exchange succeeded but the provider reported a failure inside it (a stream's
        # error event, an answer that does not parse): the provider's side failed.
        first = err.args[0] if err.args else None
        body = next(
            (b for b in (getattr(err, "body", None), getattr(err, "error", None), first) if b),
            None,
        )
        message = scrub(_body_message(body) or str(err) or type(err).__name__)
        if _error_kind(body) == "rate_limit_error":
            return RateLimitError(message, provider=provider)
        return ServerError(message, provider=provider, request_id=getattr(err, "request_id", None))
    return None
