from __future__ import annotations

from functools import partial

import anyio
import pytest
from pydantic import BaseModel

from aiops_core import Agent, MemoryStore, Middleware, MiddlewareSpec, tool
from aiops_core.agent import FinalResult, RunError, TextDelta, ToolCallFinished, ToolCallStarted
from aiops_core.errors import (
    ApprovalRequired,
    MaxStepsExceeded,
    MiddlewareError,
    OutputValidationError,
    StoreUnavailableError,
    UserError,
)
from aiops_core.messages import (
    AssistantMessage,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import FunctionModel, ModelRequest


def calls(*items: tuple[str, dict]) -> AssistantMessage:
    return AssistantMessage(
        tool_calls=[ToolCall(id=f"c{i}", name=n, arguments=a) for i, (n, a) in enumerate(items)]
    )


def scripted(*responses):
    """A FunctionModel answering with each response in turn, recording every request."""
    seen: list[ModelRequest] = []
    queue = list(responses)

    def reply(request: ModelRequest):
        seen.append(request)
        return queue.pop(0)

    return FunctionModel(reply), seen


@pytest.mark.anyio
async def test_parallel_tool_calls_run_concurrently_and_results_keep_call_order():
    both_started = anyio.Event()
    started: list[str] = []

    @tool
    async def slow(name: str) -> str:
        """Waits for the other call, so sequential execution would deadlock."""
        started.append(name)
        if len(started) == 2:
            both_started.set()
        with anyio.fail_after(2):
            await both_started.wait()
        if name == "first":
            await anyio.sleep(0.05)  # finishes last, must still come first
        return name

    model, seen = scripted(calls(("slow", {"name": "first"}), ("slow", {"name": "second"})), "done")
    result = await Agent(model, tools=[slow]).run("go")
    assert result.output == "done"
    tool_results = [m for m in result.messages if isinstance(m, ToolResultMessage)]
    assert [m.content for m in tool_results] == ["first", "second"]
    assert [m.tool_call_id for m in tool_results] == ["c0", "c1"]
    assert seen[1].messages[-2:] == tool_results


@pytest.mark.anyio
async def test_tool_errors_and_invalid_arguments_go_back_to_the_model():
    @tool
    async def lookup(name: str) -> str:
        """Look up."""
        raise KeyError(name)

    model, seen = scripted(
        AssistantMessage(
            tool_calls=[
                ToolCall(id="a", name="lookup", arguments={"name": "r1"}),
                ToolCall(id="b", name="lookup", arguments={"nom": "r1"}),
                ToolCall(id="c", name="lookup", invalid_arguments="{"),
                ToolCall(id="d", name="missing"),
            ]
        ),
        "sorry",
    )
    result = await Agent(model, tools=[lookup]).run("go")
    assert result.output == "sorry"
    errors = [m for m in seen[1].messages if isinstance(m, ToolResultMessage)]
    assert all(m.is_error for m in errors)
    assert errors[0].text == "KeyError: 'r1'"
    assert "nom" in errors[1].text and "Invalid arguments" in errors[1].text
    assert "not a JSON object" in errors[2].text
    assert "Unknown tool 'missing'" in errors[3].text


@pytest.mark.anyio
async def test_system_prompt_goes_first_and_history_is_loaded_from_the_store():
    store = MemoryStore()
    model, seen = scripted("one", "two")
    agent = Agent(model, system_prompt="be brief", store=store)
    await agent.run("first", thread_id="t")
    await agent.run("second", thread_id="t")
    assert seen[1].messages == [
        SystemMessage(content="be brief"),
        UserMessage(content="first"),
        AssistantMessage(content="one"),
        UserMessage(content="second"),
    ]
    thread = await store.load("t")
    assert thread is not None and len(thread.messages) == 4
    assert thread.info.title == "first" and thread.info.model == "function:function"


@pytest.mark.anyio
async def test_max_steps_raises_a_typed_error_and_stores_nothing():
    @tool
    async def again() -> str:
        """Loop."""
        return "more"

    model = FunctionModel(lambda r: calls(("again", {})))
    store = MemoryStore()
    agent = Agent(model, tools=[again], max_steps=3, store=store)
    with pytest.raises(MaxStepsExceeded, match="3 model calls"):
        await agent.run("loop", thread_id="t")
    assert await store.load("t") is None


@pytest.mark.anyio
async def test_cancelling_mid_tool_call_stores_nothing_and_the_thread_stays_usable():
    entered = anyio.Event()

    @tool
    async def hang() -> str:
        """Never finishes."""
        entered.set()
        await anyio.sleep(60)
        return "late"

    store = MemoryStore()
    model, _ = scripted("first answer", calls(("hang", {})), "never", "after")
    agent = Agent(model, tools=[hang], store=store)
    await agent.run("hello", thread_id="t")
    async with anyio.create_task_group() as group:
        group.start_soon(partial(agent.run, "stuck", thread_id="t"))
        await entered.wait()
        group.cancel_scope.cancel()
    thread = await store.load("t")
    assert thread is not None
    assert [m.role for m in thread.messages] == ["user", "assistant"]
    model.function = lambda r: "after"
    assert (await agent.run("again", thread_id="t")).output == "after"


@pytest.mark.anyio
async def test_stream_events_come_in_documented_order():
    @tool
    async def ping(host: str) -> str:
        """Ping."""
        return f"{host} ok"

    async def stream(request: ModelRequest):
        if not any(isinstance(m, ToolResultMessage) for m in request.messages):
            from aiops_core.providers import ToolCallDelta

            yield "Checking"
            yield ToolCallDelta(0, id="p1", name="ping", arguments='{"ho')
            yield ToolCallDelta(0, arguments='st": "r1"}')
            yield ToolCallDelta(1, id="p2", name="ping", arguments='{"host": "r2"}')
        else:
            yield "Both "
            yield "up."

    agent = Agent(FunctionModel(stream_function=stream), tools=[ping])
    events = [e async for e in agent.stream("check")]
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "TextDelta",
        "ToolCallStarted",
        "ToolCallStarted",
        "ToolCallFinished",
        "ToolCallFinished",
        "TextDelta",
        "TextDelta",
        "FinalResult",
    ]
    assert isinstance(events[1], ToolCallStarted) and events[1].call.arguments == {"host": "r1"}
    assert isinstance(events[3], ToolCallFinished) and events[3].result.content == "r1 ok"
    assert isinstance(events[-1], FinalResult) and events[-1].result.output == "Both up."
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "CheckingBoth up."


@pytest.mark.anyio
async def test_stream_reports_an_error_event_then_raises():
    def boom(request):
        raise RuntimeError("model exploded")

    events = []
    with pytest.raises(RuntimeError, match="model exploded"):
        async for event in Agent(FunctionModel(boom)).stream("x"):
            events.append(event)
    assert isinstance(events[-1], RunError) and "exploded" in str(events[-1].error)


class Device(BaseModel):
    name: str
    up: bool


@pytest.mark.anyio
async def test_structured_output_is_validated():
    model, seen = scripted('{"name": "r1", "up": true}')
    result = await Agent(model, output_type=Device).run("status")
    assert result.output == Device(name="r1", up=True)
    assert seen[0].output_schema is not None and seen[0].output_schema.name == "Device"
    assert seen[0].output_schema.json_schema["required"] == ["name", "up"]


@pytest.mark.anyio
async def test_invalid_structured_output_is_retried_once_with_the_error():
    model, seen = scripted('{"name": "r1"}', '{"name": "r1", "up": false}')
    result = await Agent(model, output_type=Device).run("status")
    assert result.output == Device(name="r1", up=False)
    correction = seen[1].messages[-1]
    assert isinstance(correction, UserMessage) and "up: Field required" in correction.text


@pytest.mark.anyio
async def test_structured_output_fails_with_typed_error_after_the_retry():
    model, _ = scripted("not json", "still not json")
    with pytest.raises(OutputValidationError, match="Device"):
        await Agent(model, output_type=Device).run("status")


@pytest.mark.anyio
async def test_test_model_produces_schema_valid_structured_output():
    result = await Agent("test", output_type=Device).run("status")
    assert isinstance(result.output, Device)


class Approval(Middleware):
    name = "approve_writes"

    async def wrap_tool_call(self, invocation, call_next):
        if invocation.call.name.startswith("set_") and not invocation.approved:
            raise ApprovalRequired(f"{invocation.call.name} changes the network")
        return await call_next(invocation)


@pytest.mark.anyio
async def test_a_run_pauses_for_approval_and_resumes_from_the_store():
    changed: list[str] = []

    @tool
    async def set_vlan(vlan: int) -> str:
        """Change the VLAN."""
        changed.append(str(vlan))
        return f"vlan {vlan} set"

    @tool
    async def get_vlan() -> int:
        """Read the VLAN."""
        return 10

    store = MemoryStore()
    model, _ = scripted(
        calls(("get_vlan", {}), ("set_vlan", {"vlan": 20})), "changed to 20", "hello"
    )
    agent = Agent(model, tools=[set_vlan, get_vlan], store=store, middleware=[Approval])
    paused = await agent.run("set vlan 20", thread_id="t")
    assert paused.status == "pending_approval" and paused.output is None
    assert paused.pending is not None and [c.name for c in paused.pending.calls] == ["set_vlan"]
    assert paused.pending.reasons == {"c1": "set_vlan changes the network"}
    assert changed == []
    with pytest.raises(UserError, match="awaiting approval"):
        await agent.run("something else", thread_id="t")
    with pytest.raises(UserError, match="exactly one decision"):
        await agent.resume(thread_id="t", approve=["nope"])
    done = await agent.resume(thread_id="t", approve=["c1"])
    assert done.status == "completed" and done.output == "changed to 20"
    assert changed == ["20"]
    thread = await store.load("t")
    assert thread is not None and "pending_approval" not in thread.info.metadata
    assert [m.role for m in thread.messages] == ["user", "assistant", "tool", "tool", "assistant"]
    assert [m.tool_call_id for m in thread.messages if isinstance(m, ToolResultMessage)] == [
        "c0",
        "c1",
    ]
    assert (await agent.run("hi", thread_id="t")).output == "hello"


@pytest.mark.anyio
async def test_rejected_calls_reach_the_model_as_errors_without_a_store():
    @tool
    async def set_vlan(vlan: int) -> str:
        """Change the VLAN."""
        raise AssertionError("must not run")

    model, seen = scripted(calls(("set_vlan", {"vlan": 20})), "ok, not changed")
    agent = Agent(model, tools=[set_vlan], middleware=[Approval])
    paused = await agent.run("set vlan 20")
    done = await agent.resume(
        pending=paused.pending, reject=["c0"], reason="denied by the change board"
    )
    assert done.output == "ok, not changed"
    result = seen[1].messages[-1]
    assert isinstance(result, ToolResultMessage) and result.is_error
    assert "denied by the change board" in result.text


class Exploding(Middleware):
    name = "exploding"

    def __init__(self, config=None, context=None):
        raise RuntimeError("cannot reach the policy server")


@pytest.mark.anyio
async def test_non_critical_middleware_failure_is_skipped_with_a_warning(caplog):
    result = await Agent("test", middleware=[MiddlewareSpec(Exploding)]).run("hi")
    assert result.output.startswith("(test model)")
    assert any("exploding" in w and "policy server" in w for w in result.warnings)
    assert "exploding" in caplog.text


@pytest.mark.anyio
async def test_critical_middleware_failure_aborts_the_run_naming_it():
    with pytest.raises(MiddlewareError, match="Critical middleware 'exploding'"):
        await Agent("test", middleware=[MiddlewareSpec(Exploding, critical=True)]).run("hi")


class DownStore(MemoryStore):
    async def load(self, thread_id, *, owner=None):
        raise StoreUnavailableError("redis://127.0.0.1:1 refused the connection")

    async def append(self, *args, **kwargs):
        raise StoreUnavailableError("still down")


@pytest.mark.anyio
async def test_unreachable_store_fails_the_run_unless_degrade_is_set():
    with pytest.raises(StoreUnavailableError):
        await Agent("test", store=DownStore()).run("hi", thread_id="t")
    result = await Agent("test", store=DownStore(), degrade=True).run("hi", thread_id="t")
    assert result.output == "(test model) You said: hi"
    assert any("without history" in w for w in result.warnings)


class FlakyStore(MemoryStore):
    async def append(self, *args, **kwargs):
        raise StoreUnavailableError("went away after the load")


@pytest.mark.anyio
async def test_store_lost_between_load_and_save_fails_or_degrades_with_a_warning():
    with pytest.raises(StoreUnavailableError):
        await Agent("test", store=FlakyStore()).run("hi", thread_id="t")
    result = await Agent("test", store=FlakyStore(), degrade=True).run("hi", thread_id="t")
    assert result.output == "(test model) You said: hi"
    assert any("not saved" in w for w in result.warnings)


def test_run_sync_works_repeatedly_in_scripts():
    agent = Agent("test")
    assert agent.run_sync("one").output.endswith("one")
    assert agent.run_sync("two").output.endswith("two")


@pytest.mark.anyio
async def test_run_sync_inside_an_event_loop_says_what_to_do():
    with pytest.raises(UserError, match=r"await agent\.run"):
        Agent("test").run_sync("x")


def test_configuration_mistakes_are_user_errors():
    with pytest.raises(UserError, match="max_steps"):
        Agent("test", max_steps=0)
    with pytest.raises(UserError, match="unique"):
        Agent("test", tools=[tool(lambda: 1, name="x"), tool(lambda: 2, name="x")])
    with pytest.raises(UserError, match="instances are built fresh"):
        Agent("test", middleware=[Approval()])  # type: ignore[list-item]
    with pytest.raises(UserError, match="between 1 and 100"):
        MiddlewareSpec("logging", priority=0)


class _Toolset:
    def __init__(self, *tools):
        self.tools = list(tools)

    async def list_tools(self):
        return self.tools


@pytest.mark.anyio
async def test_a_toolset_tool_hidden_by_a_local_tool_is_reported():
    @tool(name="status")
    async def local_status() -> str:
        """Local."""
        return "local"

    @tool(name="status")
    async def remote_status() -> str:
        """Remote."""
        return "remote"

    result = await Agent("test", tools=[local_status, _Toolset(remote_status)]).run("q")
    assert "- status (ok): local" in result.output
    assert any("'status'" in w and "hidden" in w for w in result.warnings)
