"""``providers/_errors.py``: status mapping, Retry-After parsing, scrubbing."""

from __future__ import annotations

import email.utils
import time

import pytest

from aiops_core.errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    ProviderConnectionError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
)
from aiops_core.masking import Scrubber
from aiops_core.providers._errors import error_for_status, map_error, parse_retry_after


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "12"}) == 12.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    future = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after({"retry-after": future}) or 0) <= 31
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    ("status", "message", "kind"),
    [
        (401, "nope", AuthenticationError),
        (400, "Input is too long for requested model.", ContextLengthError),
        (413, "request entity too large", ContextLengthError),
        (400, "Invalid 'messages[0].role'", BadRequestError),
        (422, "unprocessable", BadRequestError),
        (408, "request timeout", ProviderTimeoutError),
        (502, "bad gateway", ServerError),
        (409, "conflict", BadRequestError),
    ],
)
def test_status_mapping(status: int, message: str, kind: type) -> None:
    err = error_for_status(status, message, provider="p", request_id="r1")
    assert type(err) is kind
    assert str(err) == f"[p {status}] {message} (request id r1)"


def test_rate_limit_keeps_retry_after() -> None:
    err = error_for_status(429, "slow down", provider="p", headers={"retry-after": "4"})
    assert isinstance(err, RateLimitError) and err.retry_after == 4.0 and err.retryable


class ResponseError(Exception):
    """Shaped like ollama.ResponseError."""

    def __init__(self, error: str, status_code: int) -> None:
        super().__init__(error)
        self.error = error
        self.status_code = status_code


class ConnectError(Exception):
    """Shaped like an httpx transport error (matched by class name)."""


class TransportError(Exception):
    pass


class ReadTimeout(TransportError):
    pass


ReadTimeout.__name__ = "ReadTimeout"


def test_foreign_errors_by_shape() -> None:
    err = map_error(
        ResponseError("model 'x' not found, sk-SECRET-1", 404),
        provider="ollama",
        scrub=Scrubber(["sk-SECRET-1"]),
    )
    assert err is not None and err.status_code == 404
    assert "sk-SECRET-1" not in str(err)
    assert isinstance(
        map_error(ConnectionRefusedError("refused"), provider="p"), ProviderConnectionError
    )

    class TimeoutException(TransportError):
        pass

    assert isinstance(map_error(TimeoutException(), provider="p"), ProviderTimeoutError)
    assert isinstance(map_error(TransportError("reset"), provider="p"), ProviderConnectionError)
    assert map_error(ValueError("a bug"), provider="p") is None
