"""``Agent``: the tool-calling loop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import TypeAdapter

from ..catalog import DEFAULT_CATALOG
from ..checkpoint.base import CheckpointStore
from ..errors import AiopsError, UserError
from ..messages import ContentPart, Message, UserMessage
from ..middleware.base import Middleware, MiddlewareSpec
from ..middleware.chain import resolve_specs
from ..providers.base import ChatModel, ModelSettings, OutputSchema, TextDelta
from ..providers.registry import get_chat_model
from ..tools import Tool, Toolset, tool
from ..truncation import DEFAULT_MAX_TOOL_RESULT_CHARS
from ..usage.observer import usage_tracking
from ._budget import CONTEXT_POLICIES, ContextBudget, ContextPolicy
from ._overrides import NOT_GIVEN, Overrides, history_of, run_agent
from ._prompts import SystemPrompt, SystemPrompts
from ._run import Run
from ._sync import iterate_sync
from .events import AgentEvent, FinalResult
from .result import PendingApproval, RunResult

if TYPE_CHECKING:
    from ..catalog import ModelCatalog
    from ..usage import Budget, BudgetGate, UsageRecorder

__all__ = ["Agent"]

log = logging.getLogger("aiops_core.agent")

DEFAULT_MAX_TOOL_CALLS_PER_STEP = 16
"""Default ``max_tool_calls_per_step``: more than any real plan needs in one response."""

Prompt = str | UserMessage | Sequence[ContentPart]
ToolLike = Tool | Toolset | Callable[..., Any]
History = Sequence[Message | Mapping[str, Any]]


class Agent:
    """An assistant: a model, tools, middleware and (optionally) a checkpoint store.

    Args:
        model: ``"provider:model"``, ``"test"``, or a :class:`ChatModel` object.
        tools: :class:`Tool` objects, plain typed functions (wrapped with ``@tool``), or
            toolsets such as an :class:`~aiops_core.mcp.MCPClientPool` (asked for tools each run).
        system_prompt: instructions sent first on every model call: text, a function of the
            run's :class:`~aiops_core.context.RunContext` (sync or async, evaluated at the start
            of every run), or a list of these (joined by blank lines).
        middleware: :class:`MiddlewareSpec` objects (or middleware classes); instances are built
            fresh for every run.
        store: a checkpoint store; runs with a ``thread_id`` load and append history there.
        max_steps: most model calls in one run before :class:`MaxStepsExceeded`.
        output_type: a pydantic model (or any type pydantic validates) for structured output.
        model_settings: temperature, max_tokens and other per-request parameters.
        tool_timeout: default seconds per tool call (a tool's own timeout wins).
        degrade: when the store is unreachable, run without history (with a warning) instead
            of failing.
        max_tool_result_chars: longest tool result (local or MCP tools, errors included) the
            model is sent; a longer one keeps its start and ends with a marker saying it was
            truncated and how much was cut (see :mod:`aiops_core.truncation`). ``None``: no cap.
        max_tool_calls_per_step: most tool calls run for one model response; further calls are
            not run and get a tool error that names the limit (every call still gets a result,
            so the history stays valid for every provider).
        deps_type: the type of the dependencies object runs must pass (``deps=``); a run
            without one, or with another type, is refused. ``None``: deps are optional, any type.
        tool_retries: how many times in a row a tool may raise
            :class:`~aiops_core.errors.ModelRetry` before the run fails with
            :class:`~aiops_core.errors.ToolRetriesExceeded` (a tool's own ``max_retries`` wins).
        history_limit: load and send at most about this many of a stored thread's last
            messages (a partial load; the window starts on a user message and moves in steps
            of half the limit, so prompt caches keep hitting). ``None``: the whole thread.
        recorder: a :class:`~aiops_core.usage.UsageRecorder` that receives a record of every
            model call, tool call and run (see :mod:`aiops_core.usage`); ``None``: nothing is
            recorded and the loop pays nothing for it.
        budgets: :class:`~aiops_core.usage.Budget` caps checked before each model call (they
            read spending from ``recorder``), or a :class:`~aiops_core.usage.BudgetGate` shared by
            the agents of one worker process.
        catalog: model prices for the records' cost, and context windows and output limits
            for the context budget (default :data:`~aiops_core.catalog.DEFAULT_CATALOG`).
        context_policy: what to do when a request would not fit the model's context window
            (see :mod:`aiops_core.agent._budget`): ``"trim"`` leaves the oldest whole turns out
            of the request (the stored thread is unchanged); ``"refuse"`` raises
            :class:`~aiops_core.errors.ContextLimitError` before anything is sent;
            ``"summarize"`` replaces the oldest whole turns with a summary written by
            ``summary_model``, stored in the thread's metadata so later turns load only the
            messages after it (see :mod:`aiops_core.agent._summary`).
        summary_model: the model that writes ``"summarize"`` summaries: ``"provider:model"``
            (resolved now, closed with the agent), a :class:`ChatModel` (the caller's to
            close), or ``None`` for the run's own model.
        context_window: the model's context window in tokens, instead of the catalog's
            (``None``: the catalog's; a model without one there gets no budget check).
        max_output: output tokens to keep free in the window, instead of the catalog's output
            limit (the request's ``max_tokens`` setting wins over both).
    """

    def __init__(
        self,
        model: str | ChatModel = "test",
        *,
        tools: Iterable[Tool | Toolset | Callable[..., Any]] = (),
        system_prompt: SystemPrompt | None = None,
        middleware: Iterable[MiddlewareSpec | type[Middleware]] = (),
        store: CheckpointStore | None = None,
        max_steps: int = 20,
        output_type: Any = None,
        model_settings: ModelSettings | None = None,
        tool_timeout: float | None = 60.0,
        degrade: bool = False,
        max_tool_result_chars: int | None = DEFAULT_MAX_TOOL_RESULT_CHARS,
        max_tool_calls_per_step: int = DEFAULT_MAX_TOOL_CALLS_PER_STEP,
        deps_type: type[Any] | None = None,
        tool_retries: int = 1,
        history_limit: int | None = None,
        recorder: UsageRecorder | None = None,
        budgets: Iterable[Budget] | BudgetGate = (),
        catalog: ModelCatalog | None = None,
        context_policy: ContextPolicy = "trim",
        context_window: int | None = None,
        max_output: int | None = None,
        summary_model: str | ChatModel | None = None,
    ) -> None:
        if max_steps < 1:
            raise UserError(f"max_steps must be at least 1, got {max_steps}")
        if max_tool_result_chars is not None and max_tool_result_chars < 1:
            raise UserError(
                f"max_tool_result_chars must be at least 1 (or None), got {max_tool_result_chars}"
            )
        if max_tool_calls_per_step < 1:
            raise UserError(
                f"max_tool_calls_per_step must be at least 1, got {max_tool_calls_per_step}"
            )
        if tool_retries < 0:
            raise UserError(f"tool_retries must be 0 or more, got {tool_retries}")
        if history_limit is not None and history_limit < 2:
            raise UserError(f"history_limit must be at least 2 (or None), got {history_limit}")
        if context_policy not in CONTEXT_POLICIES:
            raise UserError(
                f'context_policy must be "trim", "refuse" or "summarize", got {context_policy!r}'
            )
        if summary_model is not None and context_policy != "summarize":
            raise UserError(
                'summary_model is used only with context_policy="summarize"; set that policy '
                "or leave summary_model out"
            )
        for label, value in (("context_window", context_window), ("max_output", max_output)):
            if value is not None and (isinstance(value, bool) or value < 1):
                raise UserError(f"{label} must be a positive number of tokens, got {value!r}")
        self.context_policy: ContextPolicy = context_policy
        self.context_window = context_window
        self.max_output = max_output
        self.catalog: ModelCatalog = catalog if catalog is not None else DEFAULT_CATALOG
        self.history_limit = history_limit
        self.max_tool_result_chars = max_tool_result_chars
        self.max_tool_calls_per_step = max_tool_calls_per_step
        self.tool_retries = tool_retries
        self.deps_type = deps_type
        self.model: ChatModel = get_chat_model(model) if isinstance(model, str) else model
        self._owns_summary_model = isinstance(summary_model, str)
        self.summary_model: ChatModel | None = (
            get_chat_model(summary_model) if isinstance(summary_model, str) else summary_model
        )
        self.system_prompt = system_prompt
        self._system_prompts = SystemPrompts(system_prompt)
        self.store = store
        self.max_steps = max_steps
        self.model_settings = ModelSettings(**(model_settings or {}))
        self.tool_timeout = tool_timeout
        self.degrade = degrade
        self._set_tools(tools)
        self._middleware = resolve_specs(middleware)
        self._usage = usage_tracking(recorder, budgets, catalog)
        self._set_output(output_type)
        self._run_models: dict[str, ChatModel] = {}  # per-run models named by a string
        self._override: ContextVar[Overrides | None] = ContextVar("aiops_override", default=None)

    def context_budget(self, model: ChatModel | None = None) -> ContextBudget | None:
        """The context budget of ``model`` (the agent's), or ``None`` when its window is unknown."""
        model = model or self.model
        info = self.catalog.get(model.name)
        window = self.context_window or info.context_window
        if window is None:
            return None
        reserve = self.model_settings.get("max_tokens") or self.max_output or info.max_output
        return ContextBudget(model.name, window, reserve or 0, self.context_policy)

    def _set_tools(self, tools: Iterable[ToolLike]) -> None:
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
        self._definitions = [t.definition() for t in self._tools.values()]

    def _set_output(self, output_type: Any) -> None:
        self.output_type = output_type
        self._output_adapter: TypeAdapter[Any] | None = None
        self._output_schema: OutputSchema | None = None
        if output_type is not None:
            self._output_adapter = TypeAdapter(output_type)
            name = getattr(output_type, "__name__", "output")
            self._output_schema = OutputSchema(name, self._output_adapter.json_schema())

    def _run_model(self, model: str | ChatModel) -> ChatModel:
        """A per-run model: a string is resolved once per agent and closed with it."""
        if not isinstance(model, str):
            return model
        if model not in self._run_models:
            self._run_models[model] = get_chat_model(model)
        return self._run_models[model]

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
        message_history: History | None = None,
        deps: Any = None,
        model: str | ChatModel | None = None,
        model_settings: ModelSettings | None = None,
        tools: Iterable[ToolLike] | None = None,
        output_type: Any = NOT_GIVEN,
    ) -> RunResult:
        """Run one turn and return its result.

        Args:
            prompt: the user's message: text, a :class:`UserMessage` or content parts.
            thread_id: the stored thread to continue and append to (with a ``store``).
            user: the person the run acts for (store owner, cache and rate-limit scope).
            tenant: an optional wider scope than the user.
            metadata: free-form values for middleware.
            message_history: the conversation so far, without a store: typically
                ``result.all_messages()`` of the previous run (messages or their dicts).
            deps: the dependencies object tools and system prompt functions get as
                ``ctx.deps``.
            model: this run's model instead of the agent's (``"provider:model"`` or a
                :class:`ChatModel`).
            model_settings: settings merged over the agent's for this run.
            tools: this run's tools instead of the agent's.
            output_type: this run's structured output type instead of the agent's (``None``:
                plain text).
        """
        given = Overrides(model, model_settings, tools, output_type)
        run = self._new_run(
            thread_id, user, tenant, metadata, message_history, deps, given, streaming=False
        )
        return await _drain(run.events(_user_message(prompt)))

    async def stream(
        self,
        prompt: Prompt,
        *,
        thread_id: str | None = None,
        user: str | None = None,
        tenant: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        message_history: History | None = None,
        deps: Any = None,
        model: str | ChatModel | None = None,
        model_settings: ModelSettings | None = None,
        tools: Iterable[ToolLike] | None = None,
        output_type: Any = NOT_GIVEN,
    ) -> AsyncIterator[AgentEvent]:
        """Run one turn, yielding :mod:`events <aiops_core.agent.events>` as they happen.

        Takes the arguments of :meth:`run`. With an ``output_type``, ``PartialOutput`` events
        carry the output validated so far.
        """
        given = Overrides(model, model_settings, tools, output_type)
        run = self._new_run(
            thread_id, user, tenant, metadata, message_history, deps, given, streaming=True
        )
        async for event in run.events(_user_message(prompt)):
            yield event

    async def stream_text(self, prompt: Prompt, **kwargs: Any) -> AsyncIterator[str]:
        """Run one turn, yielding only the answer's text as it arrives (takes :meth:`run`'s
        arguments). The text of every model step is included, in order."""
        async for event in self.stream(prompt, **kwargs):
            if isinstance(event, TextDelta):
                yield event.text

    def stream_sync(self, prompt: Prompt, **kwargs: Any) -> Iterator[AgentEvent]:
        """:meth:`stream` for synchronous code (a plain ``for`` loop; ``break`` cancels the run).

        The run happens on an event loop in a helper thread, so this also works where an event
        loop is already running (it blocks it meanwhile).
        """
        return iterate_sync(partial(self.stream, prompt, **kwargs))

    def stream_text_sync(self, prompt: Prompt, **kwargs: Any) -> Iterator[str]:
        """:meth:`stream_text` for synchronous code."""
        return iterate_sync(partial(self.stream_text, prompt, **kwargs))

    @contextmanager
    def override(
        self,
        *,
        model: str | ChatModel | None = None,
        model_settings: ModelSettings | None = None,
        tools: Iterable[ToolLike] | None = None,
        output_type: Any = NOT_GIVEN,
        deps: Any = NOT_GIVEN,
    ) -> Iterator[None]:
        """Replace parts of this agent for the runs started inside the ``with`` block (tests).

        The values win over the runs' own arguments, so code under test that passes its own
        ``model=`` or ``deps=`` still gets the test's. Blocks nest; the scope is the current
        task and the tasks it starts (a context variable), so concurrent tests do not mix.
        """
        given = Overrides(
            None if model is None else self._run_model(model),
            model_settings,
            tools,
            output_type,
            deps,
        )
        outer = self._override.get()
        token = self._override.set(given if outer is None else outer.over(given))
        try:
            yield
        finally:
            self._override.reset(token)

    def _new_run(
        self,
        thread_id: str | None,
        user: str | None,
        tenant: str | None,
        metadata: Mapping[str, Any] | None,
        message_history: History | None,
        deps: Any,
        given: Overrides,
        *,
        streaming: bool,
    ) -> Run:
        """A run of this agent (or of a copy with this run's overrides)."""
        forced = self._override.get()
        if forced is not None:
            given = given.over(forced)
            if forced.deps is not NOT_GIVEN:
                deps = forced.deps
        agent = run_agent(self, given)
        run = Run(agent, thread_id, user, tenant, metadata, streaming=streaming)
        if message_history is not None:
            if run.store is not None:
                raise UserError(
                    "Pass either message_history or a thread_id of the agent's store, not both: "
                    "a stored thread brings its own history"
                )
            run.history = history_of(message_history)
        run.ctx.deps = self._check_deps(deps)
        return run

    def _check_deps(self, deps: Any) -> Any:
        expected = self.deps_type
        if expected is None:
            return deps
        if deps is None:
            raise UserError(f"This agent needs deps: pass deps={expected.__name__}(...) to the run")
        try:
            ok = isinstance(deps, expected)
        except TypeError:  # a generic alias or a protocol that is not runtime-checkable
            ok = True
        if not ok:
            raise UserError(
                f"deps must be a {expected.__name__} (the agent's deps_type), "
                f"got {type(deps).__name__}"
            )
        return deps

    async def resume(
        self,
        *,
        thread_id: str | None = None,
        pending: PendingApproval | None = None,
        pause_id: str | None = None,
        approve: Iterable[str] = (),
        reject: Iterable[str] = (),
        user: str | None = None,
        tenant: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        reason: str = "rejected by the operator",
        answers: Mapping[str, Any] | None = None,
        message_history: History | None = None,
        deps: Any = None,
    ) -> RunResult:
        """Continue a run paused for approval, with a decision for every pending call.

        The paused run is claimed before any tool runs, and only once: of two resumes of it (or
        a resume and a new turn racing on the thread), one succeeds and the other raises
        :class:`~aiops_core.errors.ApprovalStateError` or
        :class:`~aiops_core.errors.ConflictError`; no tool runs twice. Each approval covers its
        call as paused (id, tool, arguments) on this resume only: a later call reusing the id
        asks again.

        Args:
            thread_id: the thread of the paused run (its stored state is the authority).
            pending: the paused run, for a run without a store; with a store it must be the
                thread's paused run.
            pause_id: the :attr:`~PendingApproval.pause_id` the decisions were made for; a
                thread that paused again since (even with the same call ids) is refused.
            approve: ids of the calls to run.
            reject: ids of the calls to refuse (the model is told ``reason``).
            user: the person acting (the thread's owner, when it has one).
            tenant: an optional wider scope than the user.
            metadata: free-form values for middleware.
            reason: what rejected calls tell the model.
            answers: call id -> the person's answer to the question its MCP server asked
                (:attr:`PendingApproval.questions`): an
                :class:`~aiops_core.mcp.ElicitationResponse` or a dict with ``action``
                (``accept``, ``decline``, ``cancel``) and ``content``. The call runs again and
                its server gets the answer; an answer approves its call.
            message_history: the conversation before the paused turn, for a run without a
                store (as passed to the run that paused).
            deps: the dependencies object for the tools that run now.
        """
        run = self._new_run(
            thread_id, user, tenant, metadata, message_history, deps, Overrides(), streaming=False
        )
        given = {call_id: _answer(a) for call_id, a in (answers or {}).items()}
        events = run.resume_events(pending, pause_id, set(approve), set(reject), reason, given)
        return await _drain(events)

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
        """Close the model's connections.

        The store and the toolsets are the caller's: close them where they were opened (they are
        async context managers), since several agents may share them.
        """
        await self.model.aclose()
        for model in self._run_models.values():
            await model.aclose()
        if self._owns_summary_model and self.summary_model is not None:
            await self.summary_model.aclose()

    async def __aenter__(self) -> Agent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _user_message(prompt: Prompt) -> UserMessage:
    if isinstance(prompt, UserMessage):
        message = prompt
    elif isinstance(prompt, str):
        message = UserMessage(content=prompt)
    else:
        message = UserMessage(content=list(prompt))
    try:
        message.text.encode()
    except UnicodeEncodeError as err:  # a lone surrogate: no provider or store can take it
        raise UserError(
            f"The message is not valid Unicode text (a lone surrogate at character {err.start});"
            " send it as UTF-8 text"
        ) from None
    return message


async def _drain(events: AsyncIterator[AgentEvent]) -> RunResult:
    """The result of a run whose events nobody watches."""
    result: RunResult | None = None
    async for event in events:
        if isinstance(event, FinalResult):
            result = event.result
    if result is None:  # pragma: no cover - a run always ends with FinalResult or raises
        raise AiopsError("run ended without a result")
    return result


def _answer(answer: Any) -> dict[str, Any]:
    """An answer to a server's question as a dict (``ElicitationResponse`` or a mapping)."""
    if isinstance(answer, Mapping):
        return {"action": answer.get("action"), "content": answer.get("content")}
    return {"action": getattr(answer, "action", None), "content": getattr(answer, "content", None)}
