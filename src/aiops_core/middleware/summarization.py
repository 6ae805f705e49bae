"""``summarization``: keep long conversations under a token budget.

When a request's estimated size passes ``max_tokens``, the older messages are replaced by a
summary written by a model, and about the last ``keep_last`` messages are sent as they are. The
cut never separates a tool call from its result, and the kept part starts with a user message
(the cut moves back to one; a single long turn without one gets a short placeholder). The summary
is added to the system prompt.

The summary comes from ``model`` (any ``"provider:model"``, resolved with ``get_chat_model``),
or, when ``model`` is not set, from the run's own model through the rest of the chain. Within a
run the summary is reused and extended as the conversation grows; the stored history is never
changed. The prompt and the transcript are those of :mod:`aiops_core.summary`, shared with the
agent's ``context_policy="summarize"``, which summarises only when a request would not fit the
context window and keeps the summary in the thread for the next turns.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from pydantic import Field, field_validator

from .._types import ModelHandler, StreamHandler
from ..errors import AiopsError, UnknownNameError
from ..messages import Message, SystemMessage, ToolResultMessage, UserMessage
from ..providers.base import ChatModel, ModelRequest, ModelResponse, ModelStreamEvent, ResponseDone
from ..providers.registry import get_chat_model, get_provider
from ..summary import (
    CONTINUE,
    DEFAULT_PROMPT,
    SUMMARY_MAX_TOKENS,
    summary_request,
    summary_text,
    with_summary,
)
from ._text import estimate_tokens
from .base import Middleware, MiddlewareConfig

__all__ = ["SummarizationConfig", "SummarizationMiddleware", "split_point"]

log = logging.getLogger("aiops_core.middleware.summarization")


class SummarizationConfig(MiddlewareConfig):
    """Config of the ``summarization`` middleware."""

    max_tokens: int = Field(
        8000, ge=100, description="estimated request size that triggers a summary"
    )
    keep_last: int = Field(10, ge=1, description="most recent messages always sent as they are")
    model: str | None = Field(
        None, description='"provider:model" for summaries (None: the run\'s model)'
    )
    prompt: str = Field(DEFAULT_PROMPT, description="instructions for the summarising model")
    summary_max_tokens: int = Field(
        SUMMARY_MAX_TOKENS, ge=16, description="max_tokens of the summary request"
    )

    @field_validator("model")
    @classmethod
    def _provider_known(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                get_provider(value.partition(":")[0].strip())
            except UnknownNameError as err:
                raise ValueError(str(err)) from None
        return value


def split_point(messages: Sequence[Message], keep_last: int) -> int:
    """Where the kept tail starts: about the last ``keep_last`` messages.

    The cut moves back to a user message, since some providers want the conversation after the
    system prompt to start with one. When there is none to move to (one long agentic turn), it
    moves back past tool results at least, so a tool call is never separated from its result.
    """
    cut = max(0, len(messages) - keep_last)
    at_user = cut
    while at_user > 0 and not isinstance(messages[at_user], UserMessage):
        at_user -= 1
    if at_user > 0:
        return at_user
    while cut > 0 and isinstance(messages[cut], ToolResultMessage):
        cut -= 1
    return cut


class SummarizationMiddleware(Middleware[SummarizationConfig]):
    """Summarises older messages when a request passes a token threshold."""

    name = "summarization"

    def setup(self) -> None:
        # (number of conversation messages summarised, summary text) for this run
        self._summary: tuple[int, str] | None = None
        self.summaries = 0

    async def _summarise(self, messages: Sequence[Message], call_next: ModelHandler) -> str:
        previous = self._summary
        start, earlier = (previous[0], previous[1]) if previous else (0, "")
        request = summary_request(
            messages[start:],
            earlier=earlier,
            prompt=self.config.prompt,
            max_tokens=self.config.summary_max_tokens,
            context=self.context,
        )
        if self.config.model is None:
            response = await call_next(request)
        else:
            model: ChatModel = get_chat_model(self.config.model)
            try:
                response = await model.complete(request)
            finally:
                await model.aclose()
        self.summaries += 1
        summary = summary_text(response)
        log.info("summarization: summarised %d messages", len(messages))
        return summary

    def _with_summary(self, system: list[Message], convo: Sequence[Message]) -> list[Message]:
        assert self._summary is not None  # callers check
        cut, summary = self._summary
        head = with_summary(system, summary)
        tail = list(convo[cut:])
        if tail and not isinstance(tail[0], UserMessage):
            tail.insert(0, UserMessage(content=CONTINUE))
        return [*head, *tail]

    async def _shrink(self, request: ModelRequest, call_next: ModelHandler) -> ModelRequest:
        limit = self.config.max_tokens
        system: list[Message] = [m for m in request.messages if isinstance(m, SystemMessage)]
        convo = [m for m in request.messages if not isinstance(m, SystemMessage)]
        if self._summary is not None:
            # Reuse this run's summary while the request stays within budget with it.
            shrunk = self._with_summary(system, convo)
            if estimate_tokens(shrunk) <= limit:
                return request.replace(messages=shrunk)
        elif estimate_tokens(request.messages) <= limit:
            return request
        cut = split_point(convo, self.config.keep_last)
        if cut == 0 or (self._summary is not None and cut <= self._summary[0]):
            return (
                request
                if self._summary is None
                else request.replace(messages=self._with_summary(system, convo))
            )
        self._summary = (cut, await self._summarise(convo[:cut], call_next))
        return request.replace(messages=self._with_summary(system, convo))

    async def wrap_model_call(
        self, request: ModelRequest, call_next: ModelHandler
    ) -> ModelResponse:
        return await call_next(await self._shrink(request, call_next))

    async def wrap_model_stream(
        self, request: ModelRequest, call_next: StreamHandler
    ) -> AsyncIterator[ModelStreamEvent]:
        async def complete(req: ModelRequest) -> ModelResponse:
            response = None
            async for event in call_next(req):  # to the end, so the stream closes
                if isinstance(event, ResponseDone):
                    response = event.response
            if response is None:
                raise AiopsError("the summarising stream ended without a response")
            return response

        async for event in call_next(await self._shrink(request, complete)):
            yield event
