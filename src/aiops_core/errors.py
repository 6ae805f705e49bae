"""The one exception tree of aiops_core.

Every error the engine raises derives from :class:`AiopsError`::

    AiopsError
    ├── UserError                  a configuration mistake; the message says what to change
    │   ├── UnknownNameError       unknown provider / middleware / store scheme (suggests the closest)
    │   ├── RegistryLoadError      a registered provider / middleware type cannot be imported
    │   ├── ApprovalStateError     a thread awaits approval, or a resume's decisions do not fit
    │   ├── MessageError           an invalid message or history
    │   └── ModelRequestsBlocked   a real model was called while tests block model requests
    ├── ProviderError              the LLM provider failed (keeps message, status, request id; never the key)
    │   ├── AuthenticationError        401
    │   ├── PermissionDeniedError      403
    │   ├── ModelNotFoundError         404
    │   ├── RateLimitError             429, with ``retry_after``
    │   ├── ContextLengthError         400, prompt too long
    │   ├── BadRequestError            other 4xx
    │   ├── ProviderTimeoutError
    │   ├── ProviderConnectionError
    │   ├── ServerError                5xx
    │   └── SummaryError               the model writing a context summary failed (names it)
    ├── ToolError                  a tool failed (normally returned to the model, not raised)
    │   ├── ToolTimeoutError
    │   └── ToolRetriesExceeded    a tool asked for more retries (ModelRetry) than it may
    ├── LimitError                 a run limit was reached
    │   ├── MaxStepsExceeded
    │   ├── UsageLimitExceeded     model/tool call limits, local rate limits
    │   ├── BudgetExceeded         a spending budget (user, tenant, model; day or month) is used up
    │   └── ContextLimitError      a request would not fit the model's context window
    ├── MiddlewareError            a critical middleware failed to build or refused the request
    │   └── ContentBlockedError    input or output blocked by a guard rail
    ├── OutputValidationError      structured output did not validate after a retry
    ├── StoreError                 a checkpoint store failed
    │   ├── StoreUnavailableError
    │   ├── ConflictError
    │   ├── CorruptThreadError
    │   └── ThreadAccessError      the thread belongs to another owner
    └── MCPError                   an MCP server failed
        ├── MCPConnectionError
        ├── MCPTimeoutError        an MCP request did not finish in time
        ├── MCPToolError           an MCP tool returned an error result
        └── MCPAuthorizationError  the server wants OAuth authorization first (HTTP 401)

:class:`ApprovalRequired` is not an error: it is the control-flow signal a middleware raises to pause
a run until a person approves a tool call. :class:`ModelRetry` is the signal a tool raises to send
the model back with a correction. :class:`InputRequired`, its kind, pauses a run until a
person answers a question an MCP server asked during a tool call (elicitation).

:func:`format_validation_error` turns a pydantic ``ValidationError`` into the one-line
``loc: msg; loc: msg`` text that every configuration error uses.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

__all__ = [
    "AiopsError",
    "ApprovalRequired",
    "ApprovalStateError",
    "AuthenticationError",
    "BadRequestError",
    "BudgetExceeded",
    "ConflictError",
    "ContentBlockedError",
    "ContextLengthError",
    "ContextLimitError",
    "CorruptThreadError",
    "InputRequired",
    "LimitError",
    "MCPAuthorizationError",
    "MCPConnectionError",
    "MCPError",
    "MCPTimeoutError",
    "MCPToolError",
    "MaxStepsExceeded",
    "MessageError",
    "MiddlewareError",
    "ModelNotFoundError",
    "ModelRequestsBlocked",
    "ModelRetry",
    "OutputValidationError",
    "PermissionDeniedError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeoutError",
    "RateLimitError",
    "RegistryLoadError",
    "ServerError",
    "StoreError",
    "StoreUnavailableError",
    "SummaryError",
    "ThreadAccessError",
    "ToolError",
    "ToolRetriesExceeded",
    "ToolTimeoutError",
    "UnknownNameError",
    "UsageLimitExceeded",
    "UserError",
    "format_validation_error",
]

MAX_LISTED_PROBLEMS = 10
"""Problems :func:`format_validation_error` names before it counts the rest."""


def format_validation_error(err: ValidationError, *, root: str = "value") -> str:
    """Every problem of a pydantic ``ValidationError`` on one line: ``loc: msg; loc: msg``.

    ``loc`` is the dotted path of the bad field (``root`` when the whole value is wrong); an
    unknown key reads ``unknown key``. The input values are never shown (they may be secrets).
    Past :data:`MAX_LISTED_PROBLEMS` problems, the rest are counted.

    >>> from pydantic import BaseModel, ConfigDict
    >>> class Limits(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     steps: int
    >>> try:
    ...     Limits.model_validate({"steps": "many", "colour": "red"})
    ... except Exception as err:
    ...     print(format_validation_error(err))
    steps: Input should be a valid integer, unable to parse string as an integer; colour: unknown key
    """
    problems = err.errors(include_url=False, include_input=False)
    parts = []
    for item in problems[:MAX_LISTED_PROBLEMS]:
        where = ".".join(str(part) for part in item["loc"]) or root
        why = "unknown key" if item["type"] == "extra_forbidden" else item["msg"]
        parts.append(f"{where}: {why}")
    if len(problems) > MAX_LISTED_PROBLEMS:
        parts.append(f"and {len(problems) - MAX_LISTED_PROBLEMS} more")
    return "; ".join(parts)


class AiopsError(Exception):
    """Base class of every error raised by aiops."""


class UserError(AiopsError):
    """A configuration or usage mistake. The message says what to change."""


class UnknownNameError(UserError, LookupError):
    """A name (provider, middleware type, store scheme) is not registered."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        close = difflib.get_close_matches(name, self.known, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        super().__init__(
            f"Unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(self.known) or '(none)'}."
        )


class RegistryLoadError(UserError, ImportError):
    """A registered entry (provider handler, middleware type) cannot be imported.

    An :class:`ImportError` too, so callers that skip unloadable entries keep working.
    """


class ApprovalStateError(UserError):
    """A thread awaits a decision on tool calls, or a resume's decisions do not match them."""


class MessageError(UserError, ValueError):
    """A message or a conversation history is invalid."""


class ProviderError(AiopsError):
    """An LLM provider call failed.

    Attributes:
        provider: registry name of the provider handler.
        status_code: HTTP status when there was one.
        request_id: the provider's request id, for support tickets.
        retryable: whether retrying the same request may succeed.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id
        parts = [p for p in (provider, str(status_code) if status_code else None) if p]
        prefix = f"[{' '.join(parts)}] " if parts else ""
        suffix = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{prefix}{message}{suffix}")


class AuthenticationError(ProviderError):
    """The provider rejected the credentials (HTTP 401)."""


class PermissionDeniedError(ProviderError):
    """The credentials lack a permission (HTTP 403)."""


class ModelNotFoundError(ProviderError):
    """The model or deployment does not exist (HTTP 404)."""


class RateLimitError(ProviderError):
    """The provider throttled the request (HTTP 429)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ContextLengthError(ProviderError):
    """The prompt exceeds the model's context window."""


class BadRequestError(ProviderError):
    """The provider rejected the request as malformed."""


class ProviderTimeoutError(ProviderError):
    """The provider did not answer in time."""

    retryable = True


class ProviderConnectionError(ProviderError):
    """The connection to the provider failed or dropped."""

    retryable = True


class ServerError(ProviderError):
    """The provider failed internally (HTTP 5xx)."""

    retryable = True


class SummaryError(ProviderError):
    """The model writing a context summary failed (``context_policy="summarize"``).

    The message names the summary model; the original error is the ``__cause__``, and
    ``provider``, ``status_code``, ``request_id`` and ``retryable`` are taken from it when it
    was a :class:`ProviderError`. The turn stored nothing.

    Attributes:
        model: the summary model's label.
    """

    def __init__(self, message: str, *, model: str, cause: BaseException | None = None) -> None:
        provider: str | None = None
        status: int | None = None
        request_id: str | None = None
        if isinstance(cause, ProviderError):
            provider, status, request_id = cause.provider, cause.status_code, cause.request_id
            self.retryable = cause.retryable
        super().__init__(message, provider=provider, status_code=status, request_id=request_id)
        self.model = model


class ToolError(AiopsError):
    """A tool failed. The loop normally turns this into a tool error message for the model."""

    def __init__(self, message: str, *, tool_name: str | None = None) -> None:
        self.tool_name = tool_name
        super().__init__(message)


class ToolTimeoutError(ToolError):
    """A tool did not finish within its timeout."""


class ToolRetriesExceeded(ToolError):
    """A tool raised :class:`ModelRetry` more times in a row than its ``max_retries``."""


class ModelRequestsBlocked(UserError):
    """A real model was asked for a response while :mod:`aiops_core.testing` blocks them."""


class LimitError(AiopsError):
    """A run limit was reached."""


class MaxStepsExceeded(LimitError):
    """The run took more model steps than ``max_steps`` allows."""


class UsageLimitExceeded(LimitError):
    """A call, token or rate limit configured in middleware was reached."""


class ContextLimitError(LimitError):
    """A model request would not fit the model's context window; nothing was sent.

    Raised before the request, with ``context_policy="refuse"``, or with ``"trim"`` when even
    the system prompt and the current turn alone do not fit.

    Attributes:
        estimate: the request's estimated input tokens.
        limit: the input tokens allowed (the context window less the output reserve).
    """

    def __init__(self, message: str, *, estimate: int = 0, limit: int = 0) -> None:
        super().__init__(message)
        self.estimate = estimate
        self.limit = limit


class BudgetExceeded(LimitError):
    """A spending budget is used up and configured to refuse (or its fallback is used up too).

    Attributes:
        scope: ``"user"``, ``"tenant"``, ``"model"`` or ``"global"``.
        subject: the user, tenant or model the budget was for (``None`` for global).
        limit / spent: dollars.
        resets_at: when the budget's period ends (UTC), as an ISO 8601 string.
    """

    def __init__(
        self,
        message: str,
        *,
        scope: str = "",
        subject: str | None = None,
        limit: Any = None,
        spent: Any = None,
        resets_at: str | None = None,
    ) -> None:
        super().__init__(message)
        self.scope, self.subject = scope, subject
        self.limit, self.spent, self.resets_at = limit, spent, resets_at


class MiddlewareError(AiopsError):
    """A middleware failed to build (critical) or refused to continue."""

    def __init__(self, message: str, *, middleware: str | None = None) -> None:
        self.middleware = middleware
        super().__init__(message)


class ContentBlockedError(MiddlewareError):
    """A guard-rail middleware blocked the input or the output."""


class OutputValidationError(AiopsError):
    """The model's structured output failed validation, also after one correction."""


class StoreError(AiopsError):
    """A checkpoint store failed."""


class StoreUnavailableError(StoreError):
    """The checkpoint store cannot be reached."""


class ConflictError(StoreError):
    """A concurrent write changed the thread first."""


class CorruptThreadError(StoreError):
    """A thread's stored data cannot be read."""

    def __init__(self, thread_id: str, reason: str) -> None:
        self.thread_id = thread_id
        super().__init__(f"Thread {thread_id!r} cannot be loaded: {reason}")


class ThreadAccessError(StoreError, PermissionError):
    """The thread belongs to another owner."""


class MCPError(AiopsError):
    """An MCP server failed."""

    def __init__(self, message: str, *, server: str | None = None) -> None:
        self.server = server
        super().__init__(f"MCP server {server!r}: {message}" if server else message)


class MCPConnectionError(MCPError):
    """An MCP server cannot be reached or its session died."""


class MCPTimeoutError(MCPError):
    """An MCP request (a tool call, a tool listing) did not finish within its timeout."""


class MCPToolError(MCPError):
    """An MCP tool returned an error result (``isError``); the message carries the server's text."""


class MCPAuthorizationError(MCPError):
    """An MCP server requires OAuth authorization that the client does not (yet) have.

    The message reads ``authorization required for server 'X'`` followed by what to do; the
    ``hint`` attribute holds that advice alone.
    """

    def __init__(self, server: str, hint: str = "") -> None:
        self.hint = hint
        text = f"authorization required for server {server!r}" + (f": {hint}" if hint else "")
        Exception.__init__(self, text)
        self.server = server


class ModelRetry(AiopsError):
    """Raised by a tool to ask the model to try again: ``raise ModelRetry("use a FQDN")``.

    The message goes back to the model as the call's result, marked as an error, and the model
    gets another step. A tool may do this ``max_retries`` times in a row (``@tool(max_retries=)``,
    else the agent's ``tool_retries``); one more fails the run with :class:`ToolRetriesExceeded`.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class ApprovalRequired(AiopsError):
    """Raised by a middleware to pause the run until a person approves a tool call."""

    def __init__(self, reason: str = "approval required") -> None:
        self.reason = reason
        super().__init__(reason)


class InputRequired(ApprovalRequired):
    """Raised by a tool to pause the run until a person answers a server's question.

    The paused turn is the same as for an approval; resuming it with an answer runs the call
    again, and the answer is given to the server when it asks the same question.

    Attributes:
        request: the question, as JSON-able data (an MCP elicitation request's ``as_dict()``).
    """

    def __init__(self, request: dict[str, Any], reason: str = "") -> None:
        self.request = request
        super().__init__(reason or f"input required: {request.get('message', '')}".rstrip(": "))
