"""Engine exceptions as HTTP answers, in one place.

===========================================  ======  =====================
exception                                    status  code
===========================================  ======  =====================
``ChatInputError`` (``UnknownModelError``)   400     ``bad_request``
``ContentBlockedError``                      400     ``bad_request``
``ThreadAccessError``                        404     ``not_found``
``ApprovalStateError``                       409     ``approval_required``
``ConflictError``                            409     ``conflict``
``UsageLimitExceeded``                       429     ``limit_exceeded``
``BudgetExceeded``                           429     ``budget_exceeded``
``MaxStepsExceeded`` / other limits          422     ``limit_exceeded``
``ProviderTimeoutError``                     504     ``provider_timeout``
``ProviderError``                            502     ``provider_error``
``StoreError``                               503     ``store_unavailable``
``MCPError``                                 503     ``mcp_unavailable``
``MiddlewareError``                          503     ``middleware_error``
``UserError`` (``NotConfiguredError``,       503     ``not_configured``
``PolicyError``)
``EngineTimeoutError``                       504     ``timeout``
anything else                                500     ``internal_error``
===========================================  ======  =====================

In PROD the message of every 5xx answer is replaced by a generic one with an error id; the full
error is logged under that id. 4xx messages describe the caller's own request and stay.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from aiops_core import errors

from ..choices import EnvironmentChoices
from ..services.engine_loop import EngineTimeoutError
from ..services.errors import ChatInputError

__all__ = ["HTTPError", "http_error"]

log = logging.getLogger("aiops_nautobot.api")

_TABLE: list[tuple[type[BaseException], int, str]] = [
    (ChatInputError, 400, "bad_request"),
    (errors.ContentBlockedError, 400, "bad_request"),
    (errors.ThreadAccessError, 404, "not_found"),
    (errors.ApprovalStateError, 409, "approval_required"),
    # Two requests raced on one thread (two resumes, or a turn during another); one won.
    (errors.ConflictError, 409, "conflict"),
    (errors.UsageLimitExceeded, 429, "limit_exceeded"),
    (errors.BudgetExceeded, 429, "budget_exceeded"),
    (errors.LimitError, 422, "limit_exceeded"),
    (errors.ProviderTimeoutError, 504, "provider_timeout"),
    (errors.ProviderError, 502, "provider_error"),
    (errors.StoreError, 503, "store_unavailable"),
    (errors.MCPError, 503, "mcp_unavailable"),
    (errors.MiddlewareError, 503, "middleware_error"),
    (errors.UserError, 503, "not_configured"),
    (EngineTimeoutError, 504, "timeout"),
]

_GENERIC = {
    502: "The language model provider failed.",
    503: "The assistant is not available right now.",
    504: "The assistant did not answer in time.",
    500: "The assistant failed.",
}


@dataclass(frozen=True, slots=True)
class HTTPError:
    """An error answer: status, a stable code and a message."""

    status: int
    code: str
    message: str

    def body(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.message}


def http_error(err: BaseException, *, environment: str) -> HTTPError:
    """Map an exception to an :class:`HTTPError`, masking 5xx details in PROD."""
    status, code = 500, "internal_error"
    for cls, cls_status, cls_code in _TABLE:
        if isinstance(err, cls):
            status, code = cls_status, cls_code
            break
    message = str(err) or type(err).__name__
    if status == 404:
        message = "Conversation not found."  # never confirm another user's thread exists
    if status >= 500:
        error_id = uuid.uuid4().hex[:12]
        log.error("chat failed [%s] (%s): %s", error_id, code, message, exc_info=err)
        if environment == EnvironmentChoices.PROD or status == 500:
            message = f"{_GENERIC.get(status, _GENERIC[500])} Error id: {error_id}."
        else:
            message = f"{message} (error id {error_id})"
    return HTTPError(status, code, message)
