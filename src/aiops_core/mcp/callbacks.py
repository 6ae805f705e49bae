"""The client side of a server's requests and notifications: the ``ClientSession`` callbacks.

:class:`ClientFeatures` holds what the pool offers every server (an elicitation handler, a
sampling model and approver, roots, OAuth token store and authorizer); :func:`session_callbacks`
turns it into the keyword arguments of one server's SDK ``ClientSession``. A callback is passed
only where it can do something, because the SDK declares a capability exactly when its callback
is set: elicitation where a handler is configured, sampling where the server's policy enables it,
roots where there are roots to offer. Log messages from servers always go to Python logging, under
``aiops_core.mcp.server.<name>``.

:class:`RunBinding` remembers which agent runs have tool calls in flight on a server, so that a
request arriving during a call (elicitation, sampling) is answered in that run's name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from ..context import RunContext
from .elicitation import ElicitationHandler, ElicitationRequest, Pause, elicitation_callback
from .sampling import SamplingApprover, sampling_callback
from .tokens import MemoryTokenStore, TokenStore

if TYPE_CHECKING:
    import mcp_types

    from .._types import ModelHandler
    from ..providers.base import ChatModel
    from .auth import Authorizer
    from .config import MCPServerConfig

__all__ = ["ClientFeatures", "RunBinding", "root_uri", "server_logger", "session_callbacks"]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}


def server_logger(server: str) -> logging.Logger:
    """The Python logger that receives a server's log messages."""
    return logging.getLogger(f"aiops_core.mcp.server.{server}")


def root_uri(root: str) -> str:
    """A root as a URI: ``file://`` URIs as given, paths made absolute ``file://`` URIs."""
    if "://" in root:
        return root
    return Path(root).expanduser().resolve().as_uri()


@dataclass(slots=True)
class ClientFeatures:
    """What the client offers servers beyond calling their tools.

    Attributes:
        elicitation: answers servers' questions to the user; ``"pause"``: a question pauses the
            agent run whose tool call it interrupts (declined outside runs); ``None``:
            elicitation off.
        sampling_model: answers sampling requests made outside an agent run.
        sampling_approver: asks a person about sampling requests (servers with ``approve``).
        roots: directories or ``file://`` URIs offered to every server as roots.
        token_store: OAuth tokens and client registrations (default: in memory).
        authorizer: brings a person through an OAuth sign-in (``None``: no interactive sign-in;
            a server that needs one reports "authorization required").
        url_check: called with every URL an OAuth flow contacts on its own (the authorization
            server's metadata, registration and token endpoints); raises to refuse it.
    """

    elicitation: ElicitationHandler | Pause | None = None
    sampling_model: ChatModel | None = None
    sampling_approver: SamplingApprover | None = None
    roots: Sequence[str] = ()
    token_store: TokenStore = field(default_factory=MemoryTokenStore)
    authorizer: Authorizer | None = None
    url_check: Callable[[str], None] | None = None


@dataclass(eq=False)
class CallSlot:
    """One tool call in flight for a run; a server's question can interrupt it."""

    context: RunContext | None
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    question: ElicitationRequest | None = None
    """Set when the call was stopped because its run pauses for this question."""


class RunBinding:
    """The agent runs with tool calls in flight on one server."""

    def __init__(self) -> None:
        self._slots: list[CallSlot] = []

    @contextmanager
    def bind(self, context: RunContext | None) -> Iterator[CallSlot]:
        """Mark ``context``'s run as having a call in flight for the ``with`` block."""
        slot = CallSlot(context)
        if context is not None:
            self._slots.append(slot)
        try:
            yield slot
        finally:
            if context is not None:
                self._slots.remove(slot)

    def current(self) -> RunContext | None:
        """The one run with calls in flight; ``None`` when there is none, or several."""
        runs = {id(s.context): s.context for s in self._slots}
        return next(iter(runs.values())) if len(runs) == 1 else None

    def interrupt(self, context: RunContext, question: ElicitationRequest) -> None:
        """Stop ``context``'s calls here: its run pauses to ask a person ``question``."""
        for slot in self._slots:
            if slot.context is context and slot.question is None:
                slot.question = question
                slot.scope.cancel()


def session_callbacks(
    config: MCPServerConfig, features: ClientFeatures, binding: RunBinding
) -> dict[str, Any]:
    """``ClientSession`` keyword arguments for one server."""
    import mcp_types

    name = config.name
    logger = server_logger(name)

    async def on_log(params: mcp_types.LoggingMessageNotificationParams) -> None:
        data = params.data
        text = data if isinstance(data, str) else repr(data)
        where = f"[{params.logger}] " if params.logger else ""
        logger.log(_LEVELS.get(str(params.level), logging.INFO), "%s%s", where, text)

    kwargs: dict[str, Any] = {"logging_callback": on_log}

    if features.elicitation is not None:
        handler = features.elicitation

        def resolve_handler() -> tuple[ElicitationHandler | Pause | None, RunContext | None]:
            return handler, binding.current()

        kwargs["elicitation_callback"] = elicitation_callback(
            name, resolve_handler, binding.interrupt
        )

    if config.sampling.enabled:
        fallback = features.sampling_model

        def resolve_model() -> tuple[ModelHandler | None, str | None, RunContext | None]:
            run = binding.current()
            call = run.model_call if run is not None else None
            if call is not None and run is not None:
                return call, run.model, run
            if fallback is not None:
                return fallback.complete, fallback.name, run
            return None, None, run

        kwargs["sampling_callback"] = sampling_callback(
            name, config.sampling, resolve_model, features.sampling_approver
        )

    roots = [root_uri(r) for r in (*features.roots, *config.roots)]
    if roots:
        offered = list(dict.fromkeys(roots))

        async def list_roots(context: Any) -> mcp_types.ListRootsResult:
            return mcp_types.ListRootsResult(
                roots=[
                    mcp_types.Root.model_validate({"uri": uri, "name": _root_name(uri)})
                    for uri in offered
                ]
            )

        kwargs["list_roots_callback"] = list_roots
    return kwargs


def _root_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1] or uri
