"""``context_policy="summarize"``: a summary instead of the older turns, kept in the thread.

When a request would not fit the model's context window (the check of :mod:`._budget`), the
oldest whole turns of the conversation are summarised by the summary model (``summary_model``,
default the agent's own) with the prompt of :mod:`aiops_core.summary`, and the request carries
the summary in its system prompt instead of them. The kept part starts on a user message, so a
tool call is never separated from its results, and it is chosen to use about half the room
left (:meth:`~._budget.ContextBudget.summary_cut`), so the next turns fit without another
summary. When even the summary and the current turn do not fit, the run fails with
:class:`~aiops_core.errors.ContextLimitError`; when the summary call fails, with
:class:`~aiops_core.errors.SummaryError` naming the summary model. Either way nothing is stored.

The turn's final append stores the summary and the thread position it covers up to in the
thread's metadata (``{"summary": {"text": ..., "upto": N}}``, in the same atomic write as the
turn's messages). The next turn loads only the messages from ``N`` on
(``load(thread_id, since_summary=True)``) plus the summary, so a turn's store cost stops growing
with the thread. The stored messages are never replaced: a full load returns them all.

The summary call goes through the run's middleware chain and usage observer like the run's own
model calls: its tokens count in the run's usage, the usage recorder gets a record of it under
the summary model's name, and budgets admit it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..checkpoint.base import SUMMARY_KEY
from ..errors import LimitError, SummaryError
from ..summary import (
    DEFAULT_PROMPT,
    SUMMARY_MAX_TOKENS,
    summary_request,
    summary_text,
    with_summary,
)
from ._budget import CHARS_PER_TOKEN, SAFETY_MARGIN

if TYPE_CHECKING:
    from .._types import ModelHandler
    from ..context import RunContext
    from ..messages import Message
    from ..providers.base import ModelRequest, ModelResponse
    from ..tools import ToolDefinition
    from ._budget import ContextBudget
    from ._run import Run

__all__ = ["ContextSummary", "context_summary", "summary_handler"]

log = logging.getLogger("aiops_core.agent")

_MIN_SUMMARY_TOKENS = 64


class ContextSummary:
    """The summary of one run: loaded with the thread, written when a request would not fit.

    Args:
        budget: the run model's context budget (``None``: the window is unknown, so no summary
            is written, but a stored one is still sent).
        call: the summary model's handler (through the run's chain and observer).
        model: the summary model's label, for errors.
        window: the summary model's context window (``None``: unknown), which bounds the
            transcript it is sent.
        text: the stored summary, if the thread has one.
        cut: how many of the loaded history's first messages the stored summary covers.
        first: the thread position of the loaded history's first message.
    """

    def __init__(
        self,
        budget: ContextBudget | None,
        call: ModelHandler,
        model: str,
        window: int | None,
        *,
        text: str | None = None,
        cut: int = 0,
        first: int = 0,
    ) -> None:
        self.budget = budget
        self.call = call
        self.model = model
        self.window = window
        self.text = text
        self.cut = cut
        self.first = first
        self.written = False
        self.summaries = 0
        # Every system prompt built with a summary stays alive for the run: token estimates are
        # cached by id(), which a freed object's successor could reuse.
        self._heads: list[tuple[Sequence[Message], str, list[Message]]] = []
        limit = budget.limit if budget is not None else 0
        self.max_tokens = max(min(SUMMARY_MAX_TOKENS, limit // 4), _MIN_SUMMARY_TOKENS)

    def metadata(self) -> dict[str, Any] | None:
        """The thread metadata to store with the turn: the summary written in this run, if any."""
        if not self.written or self.text is None:
            return None
        return {SUMMARY_KEY: {"text": self.text, "upto": self.first + self.cut}}

    def head(self, prefix: Sequence[Message]) -> list[Message]:
        """The system messages: ``prefix`` with the summary (when there is one) added."""
        if self.text is None:
            return list(prefix)
        for seen, text, head in self._heads:
            if seen is prefix and text == self.text:
                return head
        head = with_summary(prefix, self.text)
        self._heads.append((prefix, self.text, head))
        return head

    async def fit(
        self,
        prefix: Sequence[Message],
        history: Sequence[Message],
        current: Sequence[Message],
        tools: Sequence[ToolDefinition],
        sizes: dict[int, float],
        ctx: RunContext,
    ) -> list[Message]:
        """The messages of the next request: summarising the older history when it must.

        ``history`` is the run's loaded history (with capped tool results), position for
        position; the summary covers its first :attr:`cut` messages.
        """
        head, kept = self.head(prefix), history[self.cut :]
        budget = self.budget
        if budget is None:
            return [*head, *kept, *current]
        cut = budget.summary_cut(head, kept, current, tools, self.max_tokens, sizes)
        if cut is None:
            return [*head, *kept, *current]
        if cut == 0:  # nothing older to summarise: the current turn alone is too big
            budget.refusal([*head, *current], tools)
        await self._summarise(kept[:cut], ctx)
        self.cut += cut
        messages = [*self.head(prefix), *history[self.cut :], *current]
        budget.refusal(messages, tools)  # the summary came out longer than it could be
        return messages

    async def _summarise(self, messages: Sequence[Message], ctx: RunContext) -> None:
        earlier = self.text or ""
        request = summary_request(
            messages,
            earlier=earlier,
            prompt=DEFAULT_PROMPT,
            max_tokens=self.max_tokens,
            context=ctx,
            max_chars=self._max_chars(earlier),
        )
        try:
            text = summary_text(await self.call(request))
        except LimitError:
            raise  # a budget or call limit: its own error says what to change
        except Exception as err:
            raise SummaryError(
                f"The summary model {self.model!r} failed to summarise the older conversation "
                f'(context_policy="summarize"): {err}. Nothing was stored. Retry, set '
                'summary_model= to a model that works, or use context_policy="trim".',
                model=self.model,
                cause=err,
            ) from err
        room = self.max_tokens * CHARS_PER_TOKEN  # what the cut reserved for the summary
        if len(text) > room:  # a model that ignored max_tokens: keep what was reserved
            text = text[: room - 1].rstrip() + "…"
        self.text, self.written = text, True
        self.summaries += 1
        log.info("context summary: %d messages summarised by %s", len(messages), self.model)

    def _max_chars(self, earlier: str) -> int | None:
        """The longest transcript the summary model's window takes (``None``: unknown)."""
        if self.window is None:
            return None
        tokens = (self.window - self.max_tokens) / SAFETY_MARGIN - 32
        return max(int(tokens * CHARS_PER_TOKEN) - len(DEFAULT_PROMPT) - len(earlier) - 64, 1_000)


def summary_handler(run: Run) -> ModelHandler:
    """The handler of a run's summary calls, adding their usage to the run's.

    Without a ``summary_model`` it is the run's own model handler (the chain and the observer
    included); with one, the same chain and observer around that model, recorded under its
    name.
    """
    model = run.agent.summary_model
    handler = run._call_model
    if model is not None:
        chain = run.chain
        handler = chain.model_handler(model.complete)
        observer = run.observer
        if observer is not None:
            model_for = observer.tracking.model
            handler = observer.model_handler(
                handler,
                lambda label: chain.model_handler(model_for(label).complete),
                model=model.name,
            )

    async def call(request: ModelRequest) -> ModelResponse:
        response = await handler(request)
        run.add_usage(response.usage)
        return response

    return call


def context_summary(run: Run) -> ContextSummary:
    """The summary of a run with ``context_policy="summarize"``, with the stored one if any."""
    agent, stored = run.agent, run._stored_summary
    model = agent.summary_model or agent.model
    if model is agent.model:
        window = run._budget.window if run._budget is not None else None
    else:
        window = agent.catalog.get(model.name).context_window
    first = run.loaded_count - len(run.history) if run.thread is not None else 0
    return ContextSummary(
        run._budget,
        summary_handler(run),
        model.name,
        window,
        text=stored[0] if stored else None,
        cut=stored[1] if stored else 0,
        first=max(first, 0),
    )
