"""One run of the agent loop, as a few named steps.

A run walks a small state machine, in the spirit of pydantic-ai's agent graph::

    start / resume ──► Request ──► CallTools ──► Request ──► ... ──► Answer ──► End
                                      │                                │
                                      └──► End (paused for approval)   └──► Request (one
                                                                            output retry)

Each step is a coroutine that returns the next step. :meth:`Run._drive` walks the steps and
yields the events (text deltas, tool calls) as they happen; :meth:`Run._guard` is the one place
an error becomes a :class:`~aiops_core.agent.events.RunError`; :meth:`Run._result` is the one
place a :class:`~aiops_core.agent.result.RunResult` is built; :meth:`Run._save` the one place a
turn is written to the store (expecting the thread as it was loaded), and :meth:`Run._claim` the
one place a paused run is taken for a resume.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import ValidationError

from ..approval import Approval, arguments_digest
from ..checkpoint.base import stored_summary
from ..context import RunContext
from ..errors import (
    AiopsError,
    ApprovalRequired,
    ApprovalStateError,
    ConflictError,
    InputRequired,
    MaxStepsExceeded,
    OutputValidationError,
    StoreUnavailableError,
    format_validation_error,
)
from ..messages import (
    AssistantMessage,
    Message,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from ..middleware.chain import MiddlewareChain, build_chain
from ..providers.base import ModelRequest, ModelResponse, ResponseDone, TextDelta, ThinkingDelta
from ..tools import Tool, ToolInvocation, execute_tool, tool_error
from ..truncation import READ_TOOL_RESULT
from ._calls import observe_calls, run_calls
from ._history import history_window
from ._partial import PartialOutputs
from ._results import ResultCapper, read_tool_result
from ._resume import check_decisions, choose_pending
from ._steps import REQUEST, Answer, CallTools, End, Request, Step
from ._summary import ContextSummary, context_summary
from .events import AgentEvent, FinalResult, RunError, ToolCallFinished, ToolCallStarted
from .result import PendingApproval, RunResult

if TYPE_CHECKING:
    from .._types import ModelHandler, StreamHandler, ToolHandler
    from ..checkpoint.base import CheckpointStore, Thread
    from ..tools import ToolDefinition
    from ..usage.observer import RunObserver
    from ._budget import ContextBudget
    from .agent import Agent

__all__ = ["PENDING_KEY", "Run"]

log = logging.getLogger("aiops_core.agent")

PENDING_KEY = "pending_approval"
"""Thread metadata key of a run paused for approval."""


_RETRY = object()
_NOT_PAUSED = {PENDING_KEY: None}


class Run:
    """State of one run. Created per call; never shared."""

    def __init__(
        self,
        agent: Agent,
        thread_id: str | None,
        user: str | None,
        tenant: str | None,
        metadata: Mapping[str, Any] | None,
        *,
        streaming: bool,
    ) -> None:
        self.agent = agent
        self.streaming = streaming
        self.ctx = RunContext(
            thread_id=thread_id,
            user=user,
            tenant=tenant,
            model=agent.model.name,
            model_settings=dict(getattr(agent.model, "default_settings", None) or {}),
            metadata=dict(metadata or {}),
        )
        self.store: CheckpointStore | None = agent.store if thread_id is not None else None
        self.thread: Thread | None = None
        self.history: list[Message] = []
        self.loaded_count = 0  # messages in the thread when loaded: every write expects it
        self.new: list[Message] = []
        self.steps = 0
        self.usage = Usage()
        self.output_retry_used = False
        # Set once per run by _start_loop.
        self.chain: MiddlewareChain
        self.tools: dict[str, Tool] = {}
        self._definitions: list[ToolDefinition] = []
        self._prefix: list[Message] = []
        self._budget: ContextBudget | None = None
        self._summary: ContextSummary | None = None  # with context_policy="summarize"
        self._stored_summary: tuple[str, int] | None = None  # (text, cut) loaded with the thread
        self._sizes: dict[int, float] = {}  # token estimates by message id, for this run
        self._capper = ResultCapper(agent.max_tool_result_chars)
        self._read_definition: ToolDefinition | None = None
        self._call_model: ModelHandler
        self._stream_model: StreamHandler | None = None
        self._call_tool: ToolHandler
        usage = agent._usage  # recorder / budgets: None costs the loop nothing
        self.observer: RunObserver | None = usage.for_run(self.ctx) if usage else None

    # ---------------------------------------------------------------------- entry points
    def events(self, user_message: UserMessage) -> AsyncIterator[AgentEvent]:
        """The events of a new turn."""
        return self._guard(self._start(user_message))

    def resume_events(
        self,
        pending: PendingApproval | None,
        pause_id: str | None,
        approve: set[str],
        reject: set[str],
        reason: str,
        answers: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> AsyncIterator[AgentEvent]:
        """The events of a paused turn continued with a decision for each pending call."""
        return self._guard(self._resume(pending, pause_id, approve, reject, reason, answers or {}))

    async def _guard(self, start: Awaitable[Step]) -> AsyncIterator[AgentEvent]:
        """The one error guard around the set-up and every step.

        A failure is reported as a ``RunError`` event, then raised. With a usage recorder, the
        run's start and end are recorded here too.
        """
        observer, error = self.observer, None
        if observer is not None:
            await observer.started()
        try:
            async for event in self._drive(await start):
                yield event
        except BaseException as err:
            error = err
            if isinstance(err, Exception):
                yield RunError(err)
            raise
        finally:
            if observer is not None:
                await observer.finished(self.agent.model.name, self.steps, self.usage, error)

    async def _start(self, user_message: UserMessage) -> Step:
        """Set up a new turn; its first step asks the model."""
        chain = await self._open()
        if self.thread is not None and PENDING_KEY in self.thread.info.metadata:
            raise ApprovalStateError(
                f"Thread {self.ctx.thread_id!r} has tool calls awaiting approval: "
                "call agent.resume(...) with a decision for each first"
            )
        self.new.append(user_message)
        await chain.before_run(self.ctx)
        await self._start_loop(chain)
        return REQUEST

    async def _resume(
        self,
        given: PendingApproval | None,
        pause_id: str | None,
        approve: set[str],
        reject: set[str],
        reason: str,
        answers: Mapping[str, Mapping[str, Any]],
    ) -> Step:
        """Set up a paused turn: claim it, then run the approved calls and refuse the others.

        A call paused on a server's question runs again with the person's answer; should the
        server then ask something else, the turn pauses again.
        """
        chain = await self._open()
        pending, stored = self._paused_run(given, pause_id)
        check_decisions(pending, approve, reject, answers)
        self.new = list(pending.messages)
        self.steps, self.usage = pending.steps, pending.usage
        self.ctx.usage = self.usage
        await chain.before_run(self.ctx)
        await self._start_loop(chain)
        await self._claim(pending, stored)
        return await self._decide(pending, approve, reason, answers)

    def _paused_run(
        self, given: PendingApproval | None, pause_id: str | None
    ) -> tuple[PendingApproval, Any]:
        """The paused run to continue, and its state as stored (``None`` without a store)."""
        if self.store is None and self.agent.store is not None and self.ctx.thread_id is not None:
            raise StoreUnavailableError(
                f"Cannot resume thread {self.ctx.thread_id!r}: its checkpoint store is unreachable"
            )
        stored = self.thread.info.metadata.get(PENDING_KEY) if self.thread else None
        thread_id, from_store = self.ctx.thread_id, self.store is not None
        pending = choose_pending(thread_id, stored, given, pause_id, from_store=from_store)
        return pending, stored

    async def _claim(self, pending: PendingApproval, stored: Any) -> None:
        """Take the paused run, once: of two resumes of it, one gets here and one fails.

        With a store, the pending state is removed from the thread only if it is still exactly
        what this run loaded (and the thread has not grown since); otherwise
        :class:`ConflictError`. Without a store, the ``PendingApproval`` object is used up.
        """
        store, thread_id = self.store, self.ctx.thread_id
        if store is None or thread_id is None:
            if pending.claimed:
                raise ApprovalStateError("This paused run was resumed already")
            pending.claimed = True
            return
        try:
            await store.append(
                thread_id,
                [],
                owner=self.ctx.user,
                metadata={PENDING_KEY: None},
                expected_count=self.loaded_count,
                expected_metadata={PENDING_KEY: stored},
            )
        except ConflictError:
            raise ConflictError(
                f"The paused run of thread {thread_id!r} was resumed by another request, or the "
                "thread changed since it was loaded; reload it"
            ) from None

    async def _decide(
        self,
        pending: PendingApproval,
        approve: set[str],
        reason: str,
        answers: Mapping[str, Mapping[str, Any]],
    ) -> Step:
        """Run the approved and answered calls (each with its approval), refuse the others."""
        go = approve | set(answers)  # an answer to the call's question approves the call
        approved = [c for c in pending.calls if c.id in go]
        results = {
            c.id: tool_error(c, f"Tool call {reason}.") for c in pending.calls if c.id not in go
        }
        self.ctx.input_answers.update(pending.answers)
        for call_id, answer in answers.items():
            self.ctx.input_answers[pending.questions[call_id]["key"]] = dict(answer)
        still: dict[str, ApprovalRequired] = {}
        if approved:
            thread_id, pause = self.ctx.thread_id, pending.pause_id
            approvals = {
                c.id: Approval.of(c, thread_id=thread_id, pause_id=pause) for c in approved
            }
            done, still = await self._run_tools(approved, approvals)
            if any(not isinstance(s, InputRequired) for s in still.values()):
                raise ApprovalStateError(
                    f"Approved calls asked for approval again: {sorted(still)}"
                )
            results.update(done)
        # The assistant message that made the calls is the last assistant message of the turn.
        last = next(m for m in reversed(self.new) if isinstance(m, AssistantMessage))
        answered = {m.tool_call_id for m in self.new if isinstance(m, ToolResultMessage)}
        if still:  # a server asked another question: pause again, keeping the finished results
            open_calls = [c for c in last.tool_calls if c.id not in answered]
            return End(await self._pause(open_calls, results, still))
        self.new.extend(results[c.id] for c in last.tool_calls if c.id not in answered)
        return REQUEST

    # ---------------------------------------------------------------------- set-up
    async def _open(self) -> MiddlewareChain:
        """Build this run's middleware and load the thread's history."""
        chain = build_chain(self.agent._middleware, self.ctx)
        store, thread_id = self.store, self.ctx.thread_id
        if store is None or thread_id is None:
            return chain
        try:
            self.thread = await self._load(store, thread_id)
        except StoreUnavailableError as err:
            if not self.agent.degrade:
                raise
            self.store = None
            self._warn(f"checkpoint store unavailable, running without history: {err}")
        if self.thread is not None:
            self.history = self.thread.messages
            # Writes expect the whole thread's count (a window holds only its tail).
            summarize = self.agent.context_policy == "summarize"
            windowed = self.agent.history_limit is not None or summarize
            self.loaded_count = self.thread.info.message_count if windowed else len(self.history)
            stored = stored_summary(self.thread.info.metadata) if summarize else None
            if stored is not None:  # the summary covers the history before its position
                cut = min(max(stored[1] - self.thread.first, 0), len(self.history))
                self._stored_summary = (stored[0], cut)
        return chain

    async def _load(self, store: CheckpointStore, thread_id: str) -> Thread | None:
        """The thread, or its window when the agent has a ``history_limit``.

        With ``context_policy="summarize"`` only the messages after the thread's summary are
        read (the summary comes with the thread's metadata).
        """
        limit = self.agent.history_limit
        if limit is None:
            return await self._read(store, thread_id)
        thread = await self._read(store, thread_id, limit)
        if thread is None:
            return None
        window = history_window(thread.messages, thread.info.message_count, limit)
        if window is None:  # no user message to start on in the tail: take everything
            return await self._read(store, thread_id)
        thread.messages = window
        return thread

    async def _read(
        self, store: CheckpointStore, thread_id: str, last: int | None = None
    ) -> Thread | None:
        # Only the options in use are passed: a store written for fewer options keeps working.
        options: dict[str, Any] = {} if last is None else {"last": last}
        if self.agent.context_policy == "summarize":
            options["since_summary"] = True
        return await store.load(thread_id, owner=self.ctx.user, **options)

    async def _start_loop(self, chain: MiddlewareChain) -> None:
        """Compose the handlers and fetch the tools, once per run."""
        agent = self.agent
        self.chain = chain
        self._call_model = chain.model_handler(agent.model.complete)
        self.ctx.model_call = self._call_model  # MCP sampling during this run's tool calls
        if self.streaming:
            self._stream_model = chain.stream_handler(agent.model.stream)
        self._call_tool = chain.tool_handler(execute_tool)
        if self.observer is not None:
            observe_calls(self, self.observer)
        if agent._toolsets:
            self.tools = {t.name: t for t in await agent.list_tools(self.ctx.warnings)}
            self._definitions = [t.definition() for t in self.tools.values()]
        else:  # the agent's own tools only: fixed since it was built
            self.tools, self._definitions = agent._tools, agent._definitions
        self._prefix = await agent._system_prompts.render(self.ctx)
        self._budget = agent.context_budget()
        if agent.context_policy == "summarize":
            self._summary = context_summary(self)
        limit = agent.max_tool_result_chars
        if limit is not None and READ_TOOL_RESULT not in self.tools:
            reader = read_tool_result(lambda: [*self.history, *self.new], limit)
            self.tools = {**self.tools, READ_TOOL_RESULT: reader}
            self._read_definition = reader.definition()
        else:  # no cap, or a tool of the agent's own has the name: results are capped only
            self._capper.skip = None

    def add_usage(self, usage: Usage) -> None:
        """Count a model call's usage in the run's (a response's, or a summary call's)."""
        self.usage = self.usage + usage
        self.ctx.usage = self.usage

    # ---------------------------------------------------------------------- the steps
    async def _drive(self, step: Step) -> AsyncIterator[AgentEvent]:
        """Walk the steps from ``step`` until one ends the run, yielding events as they happen.

        The steps are coroutines that return the next step; only the events live here, so a
        run nobody streams pays for no event plumbing.
        """
        streaming = self.streaming
        while True:
            match step:
                case Request():
                    request = await self._next_request()
                    stream_model = self._stream_model
                    if stream_model is None:
                        response: ModelResponse | None = await self._call_model(request)
                    else:
                        response = None
                        adapter = self.agent._output_adapter
                        partial = None if adapter is None else PartialOutputs(adapter)
                        async for event in stream_model(request):
                            if isinstance(event, (TextDelta, ThinkingDelta)):
                                yield event
                                if (
                                    partial is not None
                                    and isinstance(event, TextDelta)
                                    and (output := partial.feed(event.text))
                                ):
                                    yield output
                            elif isinstance(event, ResponseDone):
                                response = event.response
                    step = self._received(response)
                case CallTools(message):
                    calls = message.tool_calls
                    if streaming:
                        for call in calls:
                            yield ToolCallStarted(call)
                    step = await self._call_tools(calls)
                    if streaming and isinstance(step, Request):
                        for call, result in zip(calls, step.results, strict=True):
                            yield ToolCallFinished(call, result)
                case Answer(message):
                    step = await self._answer(message)
                case End(result):
                    yield FinalResult(result)
                    return

    async def _next_request(self) -> ModelRequest:
        """Count the step (within ``max_steps``) and build its model request (summarising the
        older conversation first when the context policy says so)."""
        agent = self.agent
        if self.steps >= agent.max_steps:
            raise MaxStepsExceeded(
                f"The run made {agent.max_steps} model calls without a final answer; "
                "raise max_steps or give the model fewer tools to chase"
            )
        self.steps += 1
        self.ctx.step = self.steps
        # Long tool results go capped; the thread keeps them whole (see _results).
        history, cut_history = self._capper.cap(self.history)
        current, cut_current = self._capper.cap(self.new)
        tools = self._definitions
        if (cut_history or cut_current) and self._read_definition is not None:
            tools = [*tools, self._read_definition]
        budget = self._budget
        if self._summary is not None:
            messages = await self._summary.fit(
                self._prefix, history, current, tools, self._sizes, self.ctx
            )
        elif budget is None:
            messages = [*self._prefix, *history, *current]
        else:
            # Where the history starts in the thread (a partial load starts late).
            first = self.loaded_count - len(self.history) if self.thread is not None else 0
            messages = budget.fit(self._prefix, history, current, tools, self._sizes, max(first, 0))
        return ModelRequest(
            messages=messages,
            tools=tools,
            settings=agent.model_settings,
            output_schema=agent._output_schema,
            context=self.ctx,
        )

    def _received(self, response: ModelResponse | None) -> CallTools | Answer:
        """Take the model's answer into the turn; tool calls or a final answer come next."""
        if response is None:
            raise AiopsError(f"model {self.agent.model.name!r} stream ended without a response")
        # Models report their own requests: a cache hit or a limit message costs none.
        self.add_usage(response.usage)
        message = response.message
        self.new.append(message)
        return CallTools(message) if message.tool_calls else Answer(message)

    async def _call_tools(self, calls: Sequence[ToolCall]) -> Request | End:
        """Run the tool calls (up to the per-step cap); pause the run when one needs approval."""
        cap = self.agent.max_tool_calls_per_step
        results, pending = await self._run_tools(calls[:cap])
        for call in calls[cap:]:  # answered, not dropped: every call needs its result
            results[call.id] = tool_error(
                call,
                f"Not run: at most {cap} tool calls are run per step (max_tool_calls_per_step). "
                "Call it again in a later step if you still need it.",
            )
        if pending:
            return End(await self._pause(calls, results, pending))
        ordered = [results[c.id] for c in calls]
        self.new.extend(ordered)
        return Request(ordered)

    async def _answer(self, message: AssistantMessage) -> Request | End:
        """Validate the output (one retry), save the turn and finish."""
        output = self._final_output(message)
        if output is _RETRY:
            return REQUEST
        await self._save(self.new)
        await self.chain.after_run(self.ctx, output)
        return End(self._result(output))

    # ---------------------------------------------------------------------- step parts
    def _final_output(self, message: AssistantMessage) -> Any:
        adapter, schema = self.agent._output_adapter, self.agent._output_schema
        if adapter is None or schema is None:
            return message.content
        try:
            return adapter.validate_json(message.content)
        except ValidationError as err:
            problem = format_validation_error(err, root="output")
            if self.output_retry_used:
                raise OutputValidationError(
                    f"The model's output does not match {schema.name}: {problem}"
                ) from None
            self.output_retry_used = True
            self.new.append(
                UserMessage(
                    content=f"Your answer did not match the required JSON schema ({problem}). "
                    "Reply again with only a JSON value that matches the schema."
                )
            )
            return _RETRY

    async def _run_tools(
        self, calls: Sequence[ToolCall], approvals: Mapping[str, Approval] | None = None
    ) -> tuple[dict[str, ToolResultMessage], dict[str, ApprovalRequired]]:
        """Run calls concurrently; returns results by call id and calls awaiting a person.

        ``approvals`` holds the approvals of this resume, by call id: each is handed to its one
        invocation and to no other.
        """
        tools, timeout = self.tools, self.agent.tool_timeout
        approvals = approvals or {}
        invocations = [
            ToolInvocation(
                call,
                tools.get(call.name),
                self.ctx,
                timeout,
                approval=approvals.get(call.id),
                max_result_chars=None,  # kept whole in the thread; capped per request
                max_retries=self.agent.tool_retries,
            )
            for call in calls
        ]
        return await run_calls(self._call_tool, invocations)

    async def _pause(
        self,
        calls: Sequence[ToolCall],
        results: dict[str, ToolResultMessage],
        pending: Mapping[str, ApprovalRequired],
    ) -> RunResult:
        # Keep finished results in the turn, in call order; pending ones get theirs on resume.
        self.new.extend(results[c.id] for c in calls if c.id in results)
        waiting = [c for c in calls if c.id in pending]
        paused = PendingApproval(
            calls=waiting,
            messages=list(self.new),
            reasons={call_id: signal.reason for call_id, signal in pending.items()},
            questions={
                call_id: dict(signal.request)
                for call_id, signal in pending.items()
                if isinstance(signal, InputRequired)
            },
            answers=dict(self.ctx.input_answers),
            steps=self.steps,
            usage=self.usage,
            pause_id=secrets.token_hex(16),
            thread_id=self.ctx.thread_id,
            digests={c.id: arguments_digest(c) for c in waiting},
        )
        await self._save([], {PENDING_KEY: paused.to_dict()})
        return self._result(None, paused)

    def _result(self, output: Any, pending: PendingApproval | None = None) -> RunResult:
        """The one place a run's result is built."""
        return RunResult(
            output=output,
            messages=self.new,
            history=self.history,
            usage=self.usage,
            steps=self.steps,
            thread_id=self.ctx.thread_id,
            run_id=self.ctx.run_id,
            model=self.agent.model.name,
            status="completed" if pending is None else "pending_approval",
            pending=pending,
            warnings=self.ctx.warnings,
        )

    async def _save(self, messages: list[Message], metadata: dict[str, Any] | None = None) -> None:
        """Write the turn (or only the metadata) to the thread; nothing without a store.

        The write expects the thread as this run loaded it (same message count, no paused run):
        of two runs that raced on one thread, the later write fails with ``ConflictError`` and
        stores nothing.
        """
        store, thread_id = self.store, self.ctx.thread_id
        if store is None or thread_id is None:
            return
        summary = self._summary.metadata() if self._summary is not None else None
        if summary is not None:  # stored with the turn, in the same atomic append
            metadata = {**(metadata or {}), **summary}
        title = None
        if self.thread is None or not self.thread.info.title:
            first = next((m for m in messages if isinstance(m, UserMessage)), None)
            title = first.text[:80] if first else None
        # A turn is stored whole or not at all: a cancellation must not cut the write short.
        with anyio.CancelScope(shield=True):
            try:
                await store.append(
                    thread_id,
                    messages,
                    owner=self.ctx.user,
                    title=title,
                    model=self.agent.model.name,
                    metadata=metadata,
                    expected_count=self.loaded_count,
                    expected_metadata=_NOT_PAUSED,
                )
            except StoreUnavailableError as err:
                if not self.agent.degrade:
                    raise
                self._warn(f"checkpoint store unavailable, this turn was not saved: {err}")

    def _warn(self, warning: str) -> None:
        log.warning(warning)
        self.ctx.warnings.append(warning)
