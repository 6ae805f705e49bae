"""``Agent``: the tool-calling loop."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio
from pydantic import TypeAdapter

from ..checkpoint.base import CheckpointStore
from ..errors import AiopsError, UserError
from ..messages import ContentPart, UserMessage
from ..middleware.base import Middleware, MiddlewareSpec
from ..middleware.chain import resolve_specs
from ..providers.base import ChatModel, ModelSettings, OutputSchema
from ..providers.registry import get_chat_model
from ..tools import Tool, Toolset, tool
from ..truncation import DEFAULT_MAX_TOOL_RESULT_CHARS
from ..usage.observer import usage_tracking
from ._run import Run
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
        max_tool_result_chars: longest tool result (local or MCP tools, errors included) the
            model is sent; a longer one keeps its start and ends with a marker saying it was
            truncated and how much was cut (see :mod:`aiops_core.truncation`). ``None``: no cap.
        max_tool_calls_per_step: most tool calls run for one model response; further calls are
            not run and get a tool error that names the limit (every call still gets a result,
            so the history stays valid for every provider).
        recorder: a :class:`~aiops_core.usage.UsageRecorder` that receives a record of every
            model call, tool call and run (see :mod:`aiops_core.usage`); ``None``: nothing is
            recorded and the loop pays nothing for it.
        budgets: :class:`~aiops_core.usage.Budget` caps checked before each model call (they
            read spending from ``recorder``), or a :class:`~aiops_core.usage.BudgetGate` shared by
            the agents of one worker process.
        catalog: model prices for the records' cost (default
            :data:`~aiops_core.catalog.DEFAULT_CATALOG`).
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
        max_tool_result_chars: int | None = DEFAULT_MAX_TOOL_RESULT_CHARS,
        max_tool_calls_per_step: int = DEFAULT_MAX_TOOL_CALLS_PER_STEP,
        recorder: UsageRecorder | None = None,
        budgets: Iterable[Budget] | BudgetGate = (),
        catalog: ModelCatalog | None = None,
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
        self.max_tool_result_chars = max_tool_result_chars
        self.max_tool_calls_per_step = max_tool_calls_per_step
        self.model: ChatModel = get_chat_model(model) if isinstance(model, str) else model
        self.system_prompt = system_prompt
        self.store = store
        self.max_steps = max_steps
        self.model_settings = ModelSettings(**(model_settings or {}))
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
        self._definitions = [t.definition() for t in self._tools.values()]
        self._middleware = resolve_specs(middleware)
        self._usage = usage_tracking(recorder, budgets, catalog)
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
        run = Run(self, thread_id, user, tenant, metadata, streaming=False)
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
        run = Run(self, thread_id, user, tenant, metadata, streaming=True)
        async for event in run.events(_user_message(prompt)):
            yield event

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
        """
        run = Run(self, thread_id, user, tenant, metadata, streaming=False)
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
