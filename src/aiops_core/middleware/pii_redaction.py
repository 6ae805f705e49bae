"""``pii_redaction``: keep personal data and secrets away from the model, the answer and the logs.

Redacts, per configurable type: ``email``, ``phone``, ``credit_card`` (Luhn-checked),
``api_key`` (well-known key formats, bearer tokens, ``api_key=...``), ``password`` (``password=``,
and device-config secrets such as ``password 7 ...``, ``enable secret 5 ...``,
``snmp-server community ...``, ``tacacs-server key ...``) and ``private_key``. Network data
(``ip_address``, ``mac_address``) stays visible unless you turn it on.

Where it applies (each switchable): user messages before every model call (the stored history
keeps the original, the provider never sees it), tool results as they come back (stored
redacted), the model's answer (streamed answers are redacted line by line) and the model's
thinking (streamed thinking line by line; thinking parts as returned and stored, except signed
Anthropic thinking, which the API verifies when it goes back and so is stored as signed).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from pydantic import Field

from .._types import StreamHandler, ToolHandler
from ..messages import Message, ToolResultMessage, UserMessage
from ..providers.base import ModelRequest, ModelResponse, ModelStreamEvent
from ..tools import ToolInvocation
from ._fields import template
from ._patterns import redact
from ._text import map_content, rewrite_response, rewrite_stream
from .base import Middleware, MiddlewareConfig

__all__ = ["PIIRedactionConfig", "PIIRedactionMiddleware"]

log = logging.getLogger("aiops_core.middleware.pii_redaction")


class PIIRedactionConfig(MiddlewareConfig):
    """Config of the ``pii_redaction`` middleware: one switch per type and per place."""

    email: bool = True
    phone: bool = True
    credit_card: bool = True
    api_key: bool = True
    password: bool = True
    private_key: bool = True
    ip_address: bool = Field(False, description="network data stays visible unless asked")
    mac_address: bool = Field(False, description="network data stays visible unless asked")
    redact_input: bool = Field(True, description="user messages sent to the model")
    redact_tool_results: bool = Field(True, description="tool results (also as stored)")
    redact_output: bool = Field(True, description="the model's answer")
    redact_thinking: bool = Field(
        True,
        description="the model's thinking as streamed and returned (signed Anthropic thinking "
        "is kept as signed in the thread: it must go back unmodified)",
    )
    placeholder: Annotated[str, template(type="x")] = Field(
        "[REDACTED:{type}]", description="replacement; {type} is the type"
    )

    def enabled_types(self) -> list[str]:
        names = (
            "email",
            "phone",
            "credit_card",
            "api_key",
            "password",
            "private_key",
            "ip_address",
            "mac_address",
        )
        return [n for n in names if getattr(self, n)]


class PIIRedactionMiddleware(Middleware[PIIRedactionConfig]):
    """Redacts personal data and secrets (device-config passwords too) from input, tool results and output."""

    name = "pii_redaction"

    def setup(self) -> None:
        self.types = self.config.enabled_types()
        self.redacted = 0
        self._seen: dict[int, tuple[Message, Message]] = {}

    def redact(self, text: str) -> str:
        """``text`` with every enabled type replaced by the placeholder."""
        clean, found = redact(text, self.types, self.config.placeholder)
        if found:
            self.redacted += len(found)
            log.info("pii_redaction: redacted %s", ", ".join(sorted(set(found))))
        return clean

    def _message(self, message: Message) -> Message:
        key = id(message)
        if key not in self._seen:
            new = map_content(message, self.redact)  # type: ignore[arg-type]
            self._seen[key] = (message, new)
        return self._seen[key][1]

    async def before_model(self, request: ModelRequest) -> ModelRequest | None:
        cfg = self.config
        if not (cfg.redact_input or cfg.redact_tool_results) or not self.types:
            return None
        messages = []
        changed = False
        for message in request.messages:
            wanted = (isinstance(message, UserMessage) and cfg.redact_input) or (
                isinstance(message, ToolResultMessage) and cfg.redact_tool_results
            )
            new = self._message(message) if wanted else message
            changed |= new is not message
            messages.append(new)
        return request.replace(messages=messages) if changed else None

    def _rewriters(self) -> tuple[Callable[[str], str] | None, Callable[[str], str] | None]:
        """The rewrite of the answer text and of the thinking text (``None``: left as it is)."""
        if not self.types:
            return None, None
        cfg = self.config
        return (
            self.redact if cfg.redact_output else None,
            self.redact if cfg.redact_thinking else None,
        )

    async def after_model(
        self, request: ModelRequest, response: ModelResponse
    ) -> ModelResponse | None:
        output, thinking = self._rewriters()
        if output is None and thinking is None:
            return None
        return rewrite_response(response, output, thinking=thinking)

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        request = await self.before_model(request) or request
        events = call_next(request)
        output, thinking = self._rewriters()
        if output is not None or thinking is not None:
            events = rewrite_stream(events, output, thinking=thinking)
        async for event in events:
            yield event

    async def wrap_tool_call(
        self, invocation: ToolInvocation, call_next: ToolHandler
    ) -> ToolResultMessage:
        result = await call_next(invocation)
        if not self.config.redact_tool_results or not self.types:
            return result
        return map_content(result, self.redact)  # type: ignore[return-value]
