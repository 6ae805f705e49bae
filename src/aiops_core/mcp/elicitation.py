"""Elicitation: a server asks the user for input in the middle of a call.

The pool turns the SDK's ``elicitation/create`` request into an :class:`ElicitationRequest` and
hands it to an :class:`ElicitationHandler` (the CLI prompts on the terminal; the agent pauses the
turn). The handler's :class:`ElicitationResponse` goes back to the server as accept, decline or
cancel. On accept, missing fields get the defaults the schema declares (SEP-1034) and the content
is validated against the requested schema before it is sent; content that does not fit raises
:class:`~aiops_core.errors.UserError` saying which field is wrong.

Within an agent run, a question can instead pause the run, as a tool approval does: the pool's
``elicitation="pause"`` (or the run's ``pause_for_input``) stops the tool call and raises
:class:`~aiops_core.errors.InputRequired` with the question; the turn is resumed with the answer,
the call runs again, and when the server asks the same question (same :func:`fingerprint`) the
answer from ``RunContext.input_answers`` is given at once.

The client declares the elicitation capability only when a handler (or ``"pause"``) is configured;
without one the server sees no capability and the SDK refuses its requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from ..errors import UserError

if TYPE_CHECKING:
    import mcp_types
    from mcp.client.session import ClientRequestContext, ElicitationFnT

    from ..context import RunContext

__all__ = [
    "PAUSE",
    "ElicitationHandler",
    "ElicitationRequest",
    "ElicitationResponse",
    "apply_defaults",
    "elicitation_callback",
    "fingerprint",
    "to_result",
    "validate_content",
]

Action = Literal["accept", "decline", "cancel"]
Value: TypeAlias = str | int | float | bool | list[str] | None


@dataclass(frozen=True, slots=True)
class ElicitationRequest:
    """What a server asks of the user.

    Attributes:
        server: the asking server's name.
        message: what the server wants, in its words.
        mode: ``form`` (fill in ``schema``) or ``url`` (visit ``url``, e.g. to sign in elsewhere).
        schema: ``form``: a flat JSON schema object of primitive fields.
        url: ``url``: the address the user should open.
        elicitation_id: ``url``: the server's id of this request.
        run_id: the agent run whose tool call caused the request, when known.
    """

    server: str
    message: str
    mode: Literal["form", "url"] = "form"
    schema: dict[str, Any] = field(default_factory=dict)
    url: str | None = None
    elicitation_id: str | None = None
    run_id: str | None = None

    @property
    def fields(self) -> dict[str, dict[str, Any]]:
        """The schema's properties, in order."""
        properties = self.schema.get("properties") or {}
        return {name: dict(spec) for name, spec in properties.items()}

    @property
    def required(self) -> list[str]:
        """Names of the fields the server requires."""
        return list(self.schema.get("required") or [])

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (paused turns, the REST API)."""
        return {
            "server": self.server,
            "message": self.message,
            "mode": self.mode,
            "schema": self.schema,
            "url": self.url,
            "elicitation_id": self.elicitation_id,
            "run_id": self.run_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ElicitationRequest:
        """Inverse of :meth:`as_dict`."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True, slots=True)
class ElicitationResponse:
    """The user's answer.

    Attributes:
        action: ``accept`` (with ``content`` for a form), ``decline`` (an explicit no) or
            ``cancel`` (dismissed without choosing).
        content: the form's values (``accept`` only).
    """

    action: Action
    content: dict[str, Value] | None = None

    @classmethod
    def accept(cls, content: Mapping[str, Value] | None = None) -> ElicitationResponse:
        return cls("accept", dict(content or {}))

    @classmethod
    def decline(cls) -> ElicitationResponse:
        return cls("decline")

    @classmethod
    def cancel(cls) -> ElicitationResponse:
        return cls("cancel")


ElicitationHandler: TypeAlias = Callable[[ElicitationRequest], Awaitable[ElicitationResponse]]
"""``async handler(request) -> response``: asks a person and reports the answer."""

Pause: TypeAlias = Literal["pause"]
PAUSE: Pause = "pause"
"""The pool's ``elicitation`` setting that pauses agent runs instead of asking a handler."""


def fingerprint(request: ElicitationRequest | Mapping[str, Any]) -> str:
    """Identifies a question across a paused turn and its resume: server, message, form, URL."""
    data = request.as_dict() if isinstance(request, ElicitationRequest) else dict(request)
    key = {k: data.get(k) for k in ("server", "message", "mode", "schema", "url")}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def apply_defaults(schema: Mapping[str, Any], content: Mapping[str, Value]) -> dict[str, Value]:
    """``content`` with every missing field that declares a ``default`` filled in (SEP-1034)."""
    out = dict(content)
    for name, spec in (schema.get("properties") or {}).items():
        if name not in out and isinstance(spec, Mapping) and "default" in spec:
            out[name] = spec["default"]
    return out


def validate_content(schema: Mapping[str, Any], content: Mapping[str, Value]) -> None:
    """Check ``content`` against the requested schema (JSON Schema, via ``jsonschema``).

    Raises:
        UserError: a value does not fit; the message names the field and what is expected.
    """
    import jsonschema  # type: ignore[import-untyped]

    validator = jsonschema.Draft202012Validator(dict(schema))
    errors = sorted(validator.iter_errors(dict(content)), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        where = ".".join(str(p) for p in err.path) or "answer"
        raise UserError(f"Elicitation answer: {where}: {err.message}")


def _to_request(server: str, params: Any, run_id: str | None) -> ElicitationRequest:
    if getattr(params, "mode", "form") == "url":
        return ElicitationRequest(
            server=server,
            message=params.message,
            mode="url",
            url=params.url,
            elicitation_id=params.elicitation_id,
            run_id=run_id,
        )
    schema = params.requested_schema
    if hasattr(schema, "model_dump"):
        schema = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    return ElicitationRequest(
        server=server, message=params.message, schema=dict(schema), run_id=run_id
    )


def to_result(request: ElicitationRequest, response: ElicitationResponse) -> mcp_types.ElicitResult:
    """The SDK result for a response: defaults applied and content validated on accept."""
    import mcp_types

    if response.action != "accept":
        return mcp_types.ElicitResult(action=response.action)
    if request.mode == "url":
        return mcp_types.ElicitResult(action="accept")
    content = apply_defaults(request.schema, response.content or {})
    validate_content(request.schema, content)
    return mcp_types.ElicitResult(action="accept", content=content)


def elicitation_callback(
    server: str,
    resolve: Callable[[], tuple[ElicitationHandler | Pause | None, RunContext | None]],
    interrupt: Callable[[RunContext, ElicitationRequest], None],
) -> ElicitationFnT:
    """The SDK's ``elicitation_callback`` for one server.

    ``resolve()`` gives the pool's handler (or ``"pause"``) and the agent run whose tool call the
    question belongs to, if known. An answer the run already has (a resumed turn) is given at
    once; a run that pauses for input is ``interrupt``-ed and the server gets ``cancel``; else the
    handler asks. A handler that fails, or an answer that does not fit the schema, cancels the
    request: the server is never left waiting.
    """
    import logging

    import mcp_types

    log = logging.getLogger("aiops_core.mcp")

    async def callback(
        context: ClientRequestContext, params: mcp_types.ElicitRequestParams
    ) -> mcp_types.ElicitResult | mcp_types.ErrorData:
        handler, run = resolve()
        request = _to_request(server, params, run.run_id if run is not None else None)
        try:
            if run is not None:
                known = run.input_answers.get(fingerprint(request))
                if known is not None:
                    return to_result(request, ElicitationResponse(**known))
                if handler == PAUSE or run.pause_for_input:
                    interrupt(run, request)
                    return mcp_types.ElicitResult(action="cancel")
            if handler is None or handler == PAUSE:
                return mcp_types.ElicitResult(action="decline")
            return to_result(request, await handler(request))
        except Exception as err:
            log.warning("elicitation from %r cancelled: %s", server, err)
            return mcp_types.ElicitResult(action="cancel")

    return callback
