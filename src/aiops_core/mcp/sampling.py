"""Sampling: a server asks the client's model for a completion.

Off by default. A server's ``sampling`` settings (:class:`SamplingPolicy`) switch it on, cap the
tokens and the requests per agent run, and may ask a person to approve each request first. A
request made while one of the agent's tool calls runs on that server goes through that run's
model and middleware chain (so logging, redaction, rate limits and budgets apply); outside a run,
the pool's ``sampling_model`` answers, or the request is refused.

The client declares the sampling capability only to servers whose policy enables it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from ..messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    TextPart,
    UserMessage,
    content_text,
)
from .convert import convert_content

if TYPE_CHECKING:
    import mcp_types
    from mcp.client.session import ClientRequestContext, SamplingFnT

    from .._types import ModelHandler

__all__ = [
    "SamplingApprover",
    "SamplingPolicy",
    "SamplingRequest",
    "sampling_callback",
]


class SamplingPolicy(BaseModel):
    """A server's sampling settings (the ``sampling`` table of ``[[mcp_servers]]``).

    Attributes:
        enabled: answer the server's ``sampling/createMessage`` requests (off by default).
        max_tokens: the most tokens one answer may have (the server's own limit is lowered
            to this).
        max_requests_per_run: the most requests answered during one agent run (or one pool
            session, outside runs).
        approve: ask a person before each request (the pool's ``sampling_approver``); without an
            approver, every request is refused.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    max_tokens: int = Field(default=1024, ge=1)
    max_requests_per_run: int = Field(default=5, ge=1)
    approve: bool = False


@dataclass(frozen=True, slots=True)
class SamplingRequest:
    """What a server wants the model to answer (shown to an approver).

    Attributes:
        server: the asking server.
        messages: the conversation, as aiops messages (system prompt first, if any).
        max_tokens: the limit that will apply.
        run_id: the agent run it belongs to, when known.
    """

    server: str
    messages: list[Message]
    max_tokens: int
    run_id: str | None = None

    @property
    def text(self) -> str:
        """The conversation as plain text, for an approval prompt."""
        return "\n".join(f"{m.role}: {content_text(m.content)}" for m in self.messages)


SamplingApprover: TypeAlias = Callable[[SamplingRequest], Awaitable[bool]]
"""``async approver(request) -> bool``: a person allows (``True``) or refuses a sampling request."""

ModelResolver: TypeAlias = "Callable[[], tuple[ModelHandler | None, str | None, Any]]"
"""Returns the model handler to use now, its model name, and the run's context (or ``None``)."""


def to_messages(params: mcp_types.CreateMessageRequestParams) -> list[Message]:
    """The request's conversation as aiops messages (system prompt first)."""
    messages: list[Message] = []
    if params.system_prompt:
        messages.append(SystemMessage(content=params.system_prompt))
    for message in params.messages:
        parts = [convert_content(b) for b in message.content_as_list]
        if message.role == "assistant":
            text = "".join(p.text for p in parts if isinstance(p, TextPart))
            messages.append(AssistantMessage(content=text))
        elif all(isinstance(p, TextPart) for p in parts):
            messages.append(UserMessage(content="".join(p.text for p in parts)))  # type: ignore[union-attr]
        else:
            messages.append(UserMessage(content=parts))
    return messages


def sampling_callback(
    server: str,
    policy: SamplingPolicy,
    resolve: ModelResolver,
    approver: SamplingApprover | None,
) -> SamplingFnT:
    """The SDK's ``sampling_callback`` for one server, enforcing its policy."""
    import mcp_types

    from ..providers.base import ModelRequest, ModelSettings

    log = logging.getLogger(f"aiops_core.mcp.{server}")
    counts: dict[str, int] = {}

    def refuse(why: str) -> mcp_types.ErrorData:
        log.info("sampling request from %r refused: %s", server, why)
        return mcp_types.ErrorData(
            code=mcp_types.INVALID_REQUEST, message=f"Sampling refused: {why}"
        )

    async def callback(
        context: ClientRequestContext, params: mcp_types.CreateMessageRequestParams
    ) -> (
        mcp_types.CreateMessageResult | mcp_types.CreateMessageResultWithTools | mcp_types.ErrorData
    ):
        if params.tools:
            return refuse("tool use in sampling is not supported by this client")
        handler, model_name, run = resolve()
        if handler is None:
            return refuse("no model is available outside an agent run")
        key = getattr(run, "run_id", None) or "session"
        if counts.get(key, 0) >= policy.max_requests_per_run:
            return refuse(f"at most {policy.max_requests_per_run} requests per run")
        max_tokens = min(params.max_tokens, policy.max_tokens)
        messages = to_messages(params)
        request_view = SamplingRequest(server, messages, max_tokens, getattr(run, "run_id", None))
        if policy.approve:
            if approver is None:
                return refuse("approval is required and nobody can approve here")
            try:
                allowed = await approver(request_view)
            except Exception as err:
                log.warning("sampling approval for %r failed: %s", server, err)
                allowed = False
            if not allowed:
                return refuse("a person declined the request")
        counts[key] = counts.get(key, 0) + 1
        settings = ModelSettings(max_tokens=max_tokens)
        if params.temperature is not None:
            settings["temperature"] = params.temperature
        if params.stop_sequences:
            settings["stop"] = list(params.stop_sequences)
        try:
            response = await handler(
                ModelRequest(messages=messages, settings=settings, context=run)
            )
        except Exception as err:
            log.warning("sampling for %r failed: %s", server, err)
            return mcp_types.ErrorData(
                code=mcp_types.INTERNAL_ERROR,
                message=f"The model call failed: {type(err).__name__}",
            )
        stop = {"length": "maxTokens", "max_tokens": "maxTokens", "stop_sequence": "stopSequence"}
        return mcp_types.CreateMessageResult(
            role="assistant",
            content=mcp_types.TextContent(type="text", text=response.message.content),
            model=response.model or model_name or "unknown",
            stop_reason=stop.get(response.finish_reason or "", "endTurn"),
        )

    return callback
