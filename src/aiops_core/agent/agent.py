"""``Agent``: the tool-calling loop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import anyio
from pydantic import TypeAdapter, ValidationError

from ..checkpoint.base import CheckpointStore, Thread
from ..context import RunContext
from ..errors import (
    AiopsError,
    ApprovalRequired,
    ApprovalStateError,
    MaxStepsExceeded,
    OutputValidationError,
    StoreUnavailableError,
    UserError,
)
from ..messages import (
    AssistantMessage,
    ContentPart,
    Message,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from ..middleware.base import Middleware, MiddlewareSpec
from ..middleware.chain import MiddlewareChain, build_chain, resolve_specs
from ..providers.base import (
    ChatModel,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    OutputSchema,
    ResponseDone,
    TextDelta,
)
from ..providers.registry import get_chat_model
from ..tools import Tool, ToolInvocation, Toolset, execute_tool, tool, tool_error
from .events import AgentEvent, FinalResult, RunError, ToolCallFinished, ToolCallStarted
from .result import PendingApproval, RunResult

__all__ = ["Agent"]

log = logging.getLogger("aiops_core.agent")

PENDING_KEY = "pending_approval"
Prompt = str | UserMessage | Sequence[ContentPart]


class Agent:
    """An assistant: a model, tools, middleware and (optionally) a checkpoint store.

    Args:
        model: ``"provider:model"``, ``"test"``, or a :class:`ChatModel` object.
        tools: :class:`Tool` objects, plain typed functions (wrapped with ``@tool``), or
            toolsets such as an :class:`~aiops_core.mcp.MCPClientPool` (asked for tools each run).
        system_prompt: instructions sent first on every model call.
        middleware: :class:`MiddlewareSpec` objects (or middleware classes); instances are built
            fresh for every run.
        store: a checkpoint store; runs with a ``thread_id`` load and append history there.
        max_steps: most model calls in one run before :class:`MaxStepsExceeded`.
        output_type: a pydantic model (or any type pydantic validates) for structured output.
        model_settings: temperature, max_tokens and other per-request parameters.
        tool_timeout: default seconds per tool call (a tool's own timeout wins).
        degrade: when the store is unreachable, run without history (with a warning) instead
            of failing.
    """

    def __init__(
        self,
        model: str | ChatModel = "test",
        *,
        tools: Iterable[Tool | Toolset | Callable[..., Any]] = (),
        system_prompt: str | None = None,
        middleware: Iterable[MiddlewareSpec | type[Middleware]] = (),
        store: CheckpointStore | None = None,
        max_steps: int = 20,
        output_type: Any = None,
        model_settings: ModelSettings | None = None,
        tool_timeout: float | None = 60.0,
        degrade: bool = False,
    ) -> None:
        if max_steps < 1:
            raise UserError(f"max_steps must be at least 1, got {max_steps}")
        self.model: ChatModel = get_chat_model(model) if isinstance(model, str) else model
        self.system_prompt = system_prompt
        self.store = store
        self.max_steps = max_steps
        self.model_settings: ModelSettings = dict(model_settings or {})  # type: ignore[assignment]
        self.tool_timeout = tool_timeout
        self.degrade = degrade
        self._tools: dict[str, Tool] = {}
        self._toolsets: list[Toolset] = []
        for item in tools:
            if isinstance(item, Tool):
                self._add_tool(item)
            elif isinstance(item, Toolset):
                self._toolsets.append(item)
            elif callable(item):
                self._add_tool(tool(item))
            else:
                raise UserError(f"Not a tool, toolset or function: {item!r}")
        self._middleware = resolve_specs(middleware)
        self.output_type = output_type
        self._output_adapter: TypeAdapter[Any] | None = None
        self._output_schema: OutputSchema | None = None
        if output_type is not None:
            self._output_adapter = TypeAdapter(output_type)
            name = getattr(output_type, "__name__", "output")
            self._output_schema = OutputSchema(name, self._output_adapter.json_schema())

    def _add_tool(self, item: Tool) -> None:
        if item.name in self._tools:
            raise UserError(f"Two tools are named {item.name!r}; tool names must be unique")
        self._tools[item.name] = item

    def __repr__(self) -> str:
        return f"Agent(model={self.model.name!r}, tools={sorted(self._tools)!r})"

    # ---------------------------------------------------------------------------- public API
    async def run(
        self,
        prompt: Prompt,
        *,
        thread_id: str | None = None,
        user: str | None = None,
        tenant: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> RunResult:
        """Run one turn and return its result."""
        run = _Run(self, thread_id, user, tenant, metadata, streaming=False)
        return await _drain(run.events(_user_message(prompt)))

    async def stream(
        self,
        prompt: Prompt,
        *,
        thread_id: str | None = None,
        user: str | None = None,
        tenant: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[AgentEvent]:
        """Run one turn, yielding :mod:`events <aiops_core.agent.events>` as they happen."""
        run = _Run(self, thread_id, user, tenant, metadata, streaming=True)
        async for event in run.events(_user_message(prompt)):
            yield event

    async def resume(
        self,
        *,
        thread_id: str | None = None,
        pending: PendingApproval | None = None,
        approve: Iterable[str] = (),
        reject: Iterable[str] = (),
        user: str | None = None,
        tenant: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        reason: str = "rejected by the operator",
    ) -> RunResult:
        """Continue a run paused for approval, with a decision for every pending call."""
        run = _Run(self, thread_id, user, tenant, metadata, streaming=False)
        return await _drain(run.resume_events(pending, set(approve), set(reject), reason))

    def run_sync(self, prompt: Prompt, **kwargs: Any) -> RunResult:
        """:meth:`run` for scripts (not from inside a running event loop)."""
        try:
            return anyio.run(partial(self.run, prompt, **kwargs))
        except RuntimeError as err:
            if "already running" in str(err).lower():
                raise UserError(
                    "run_sync() was called inside an event loop: use `await agent.run(...)`"
                ) from err
            raise

    async def list_tools(self, warnings: list[str] | None = None) -> list[Tool]:
        """Local tools plus every toolset's current tools.

        On a name clash the local tool (or the earlier toolset's) wins; the hidden tool is
        logged and, when ``warnings`` is given, noted there.
        """
        tools = dict(self._tools)
        for toolset in self._toolsets:
            for item in await toolset.list_tools():
                if item.name in tools:
                    if tools[item.name] is not item:
                        note = f"tool {item.name!r} from {type(toolset).__name__} is hidden by another tool of that name"
                        log.warning(note)
                        if warnings is not None:
                            warnings.append(note)
                    continue
                tools[item.name] = item
        return list(tools.values())

    async def aclose(self) -> None:
        """Close the model's connections (and the store's, if the agent owns it)."""
        await self.model.aclose()

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _user_message(prompt: Prompt) -> UserMessage:
    if isinstance(prompt, UserMessage):
        return prompt
    if isinstance(prompt, str):
        return UserMessage(content=prompt)
    return UserMessage(content=list(prompt))


async def _drain(events: AsyncIterator[AgentEvent]) -> RunResult:
    result: RunResult | None = None
    async for event in events:
        if isinstance(event, FinalResult):
            result = event.result
    if result is None:  # pragma: no cover - events() always ends with FinalResult or raises
        raise AiopsError("run ended without a result")
    return result


class _Run:
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
            metadata=dict(metadata or {}),
        )
        self.new: list[Message] = []
        self.history: list[Message] = []
        self.thread: Thread | None = None
        self.store_ok = agent.store is not None and thread_id is not None
        self.steps = 0
        self.usage = Usage()
        self.output_retry_used = False

    # --------------------------------------------------------------------------- entry points
    async def events(self, user_message: UserMessage) -> AsyncIterator[AgentEvent]:
        try:
            chain = await self._prepare()
            if self.thread and PENDING_KEY in self.thread.info.metadata:
                raise ApprovalStateError(
                    f"Thread {self.ctx.thread_id!r} has tool calls awaiting approval: "
                    "call agent.resume(...) with a decision for each first"
                )
            self.new.append(user_message)
            await chain.before_run(self.ctx)
            async for event in self._loop(chain):
                yield event
        except BaseException as err:
            if isinstance(err, Exception):
                yield RunError(err)
            raise

    async def resume_events(
        self, pending: PendingApproval | None, approve: set[str], reject: set[str], reason: str
    ) -> AsyncIterator[AgentEvent]:
        try:
            chain = await self._prepare()
            if pending is None:
                data = self.thread.info.metadata.get(PENDING_KEY) if self.thread else None
                if data is None:
                    raise ApprovalStateError(
                        f"Nothing awaits approval in thread {self.ctx.thread_id!r}; "
                        "pass the thread_id of a paused run or its PendingApproval"
                    )
                pending = PendingApproval.from_dict(data)
            ids = {c.id for c in pending.calls}
            unknown = (approve | reject) - ids
            if unknown or approve & reject or (approve | reject) != ids:
                raise ApprovalStateError(
                    "Give exactly one decision (approve or reject) for each pending call: "
                    f"{sorted(ids)}" + (f"; unknown ids {sorted(unknown)}" if unknown else "")
                )
            self.new = list(pending.messages)
            self.steps, self.usage = pending.steps, pending.usage
            self.ctx.usage = self.usage
            self.ctx.approved_calls |= approve
            await chain.before_run(self.ctx)
            calls = [c for c in pending.calls if c.id in approve]
            results: dict[str, ToolResultMessage] = {
                c.id: tool_error(c, f"Tool call {reason}.") for c in pending.calls if c.id in reject
            }
            if calls:
                tools = {t.name: t for t in await self.agent.list_tools(self.ctx.warnings)}
                done, still = await self._run_tools(chain, calls, tools)
                if still:
                    raise ApprovalStateError(
                        f"Approved calls asked for approval again: {sorted(still)}"
                    )
                results.update(done)
            # The assistant message that made the calls is the last one in `new` with calls.
            last = next(m for m in reversed(self.new) if isinstance(m, AssistantMessage))
            answered = {m.tool_call_id for m in self.new if isinstance(m, ToolResultMessage)}
            self.new.extend(results[c.id] for c in last.tool_calls if c.id not in answered)
            async for event in self._loop(chain, clear_pending=True):
                yield event
        except BaseException as err:
            if isinstance(err, Exception):
                yield RunError(err)
            raise

    # --------------------------------------------------------------------------- the loop
    async def _prepare(self) -> MiddlewareChain:
        chain = build_chain(self.agent._middleware, self.ctx)
        if self.store_ok:
            assert self.agent.store is not None and self.ctx.thread_id is not None
            try:
                self.thread = await self.agent.store.load(self.ctx.thread_id, owner=self.ctx.user)
            except StoreUnavailableError as err:
                if not self.agent.degrade:
                    raise
                self.store_ok = False
                warning = f"checkpoint store unavailable, running without history: {err}"
                log.warning(warning)
                self.ctx.warnings.append(warning)
            if self.thread is not None:
                self.history = self.thread.messages
        return chain

    async def _loop(
        self, chain: MiddlewareChain, *, clear_pending: bool = False
    ) -> AsyncIterator[AgentEvent]:
        agent = self.agent
        call_model = chain.model_handler(agent.model.complete)
        self.ctx.model_call = call_model  # MCP sampling during this run's tool calls
        stream_model = chain.stream_handler(agent.model.stream) if self.streaming else None
        tools = {t.name: t for t in await agent.list_tools(self.ctx.warnings)}
        definitions = [t.definition() for t in tools.values()]
        prefix: list[Message] = (
            [SystemMessage(content=agent.system_prompt)] if agent.system_prompt else []
        )
        while True:
            if self.steps >= agent.max_steps:
                raise MaxStepsExceeded(
                    f"The run made {agent.max_steps} model calls without a final answer; "
                    "raise max_steps or give the model fewer tools to chase"
                )
            self.steps += 1
            self.ctx.step = self.steps
            request = ModelRequest(
                messages=[*prefix, *self.history, *self.new],
                tools=definitions,
                settings=agent.model_settings,
                output_schema=agent._output_schema,
                context=self.ctx,
            )
            if stream_model is None:
                response = await call_model(request)
            else:
                streamed: ModelResponse | None = None
                async for event in stream_model(request):
                    if isinstance(event, TextDelta):
                        yield event
                    elif isinstance(event, ResponseDone):
                        streamed = event.response
                if streamed is None:
                    raise AiopsError(f"model {agent.model.name!r} stream ended without a response")
                response = streamed
            self._account(response)
            message = response.message
            self.new.append(message)
            if message.tool_calls:
                if self.streaming:
                    for call in message.tool_calls:
                        yield ToolCallStarted(call)
                results, pending = await self._run_tools(chain, message.tool_calls, tools)
                if pending:
                    result = await self._pause(message.tool_calls, results, pending)
                    yield FinalResult(result)
                    return
                ordered = [results[c.id] for c in message.tool_calls]
                self.new.extend(ordered)
                if self.streaming:
                    for call, res in zip(message.tool_calls, ordered, strict=True):
                        yield ToolCallFinished(call, res)
                continue
            output = self._final_output(message)
            if output is _RETRY:
                continue
            result = RunResult(
                output=output,
                messages=self.new,
                usage=self.usage,
                steps=self.steps,
                thread_id=self.ctx.thread_id,
                run_id=self.ctx.run_id,
                model=agent.model.name,
                warnings=self.ctx.warnings,
            )
            await self._save(self.new, {PENDING_KEY: None} if clear_pending else None)
            await chain.after_run(self.ctx, output)
            yield FinalResult(result)
            return

    def _account(self, response: ModelResponse) -> None:
        # Models report their own requests: a cache hit or a limit message costs none.
        self.usage = self.usage + response.usage
        self.ctx.usage = self.usage

    def _final_output(self, message: AssistantMessage) -> Any:
        adapter = self.agent._output_adapter
        if adapter is None:
            return message.content
        try:
            return adapter.validate_json(message.content)
        except ValidationError as err:
            problem = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'output'}: {e['msg']}"
                for e in err.errors()[:5]
            )
            if self.output_retry_used:
                raise OutputValidationError(
                    f"The model's output does not match {self.agent._output_schema.name}: {problem}"  # type: ignore[union-attr]
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
        self, chain: MiddlewareChain, calls: Sequence[ToolCall], tools: Mapping[str, Tool]
    ) -> tuple[dict[str, ToolResultMessage], dict[str, str]]:
        """Run calls concurrently; returns results by call id and calls awaiting approval."""
        handler = chain.tool_handler(execute_tool)
        results: dict[str, ToolResultMessage] = {}
        pending: dict[str, str] = {}
        errors: list[Exception] = []
        timeout = self.agent.tool_timeout

        async def one(call: ToolCall) -> None:
            invocation = ToolInvocation(call, tools.get(call.name), self.ctx, timeout)
            try:
                results[call.id] = await handler(invocation)
            except ApprovalRequired as signal:
                pending[call.id] = signal.reason
            except Exception as err:
                errors.append(err)

        if len(calls) == 1:
            await one(calls[0])
        else:
            async with anyio.create_task_group() as group:
                for call in calls:
                    group.start_soon(one, call)
        if errors:
            raise errors[0]
        return results, pending

    async def _pause(
        self,
        calls: Sequence[ToolCall],
        results: dict[str, ToolResultMessage],
        pending: dict[str, str],
    ) -> RunResult:
        # Keep finished results in the turn, in call order; pending ones get theirs on resume.
        self.new.extend(results[c.id] for c in calls if c.id in results)
        paused = PendingApproval(
            calls=[c for c in calls if c.id in pending],
            messages=list(self.new),
            reasons=pending,
            steps=self.steps,
            usage=self.usage,
        )
        await self._save([], {PENDING_KEY: paused.to_dict()})
        return RunResult(
            output=None,
            messages=self.new,
            usage=self.usage,
            steps=self.steps,
            thread_id=self.ctx.thread_id,
            run_id=self.ctx.run_id,
            model=self.agent.model.name,
            status="pending_approval",
            pending=paused,
            warnings=self.ctx.warnings,
        )

    async def _save(self, messages: list[Message], metadata: dict[str, Any] | None) -> None:
        if not self.store_ok:
            return
        store, thread_id = self.agent.store, self.ctx.thread_id
        assert store is not None and thread_id is not None
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
                )
            except StoreUnavailableError as err:
                if not self.agent.degrade:
                    raise
                warning = f"checkpoint store unavailable, this turn was not saved: {err}"
                log.warning(warning)
                self.ctx.warnings.append(warning)


_RETRY = object()
