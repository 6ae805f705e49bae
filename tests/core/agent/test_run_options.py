"""Stateless runs (``message_history``), per-run overrides, deps and dynamic system prompts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from aiops_core import Agent, MemoryStore, RunContext, TestModel, tool
from aiops_core.errors import MessageError, UserError
from aiops_core.messages import (
    AssistantMessage,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import FunctionModel, ModelRequest


def recorder(answer: str = "ok"):
    """A FunctionModel answering ``answer`` and recording every request."""
    seen: list[ModelRequest] = []

    def reply(request: ModelRequest) -> str:
        seen.append(request)
        return answer

    return FunctionModel(reply), seen


# ---------------------------------------------------------------- message_history


@pytest.mark.anyio
async def test_message_history_continues_a_conversation_without_a_store():
    model, seen = recorder()
    agent = Agent(model, system_prompt="be brief")
    first = await agent.run("my router is r1")
    assert first.new_messages() == first.messages
    assert [m.role for m in first.all_messages()] == ["user", "assistant"]

    second = await agent.run("which router?", message_history=first.all_messages())
    sent = seen[-1].messages
    assert isinstance(sent[0], SystemMessage)  # the system prompt is the agent's, sent once
    assert [m.role for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1] == UserMessage(content="my router is r1")
    assert [m.role for m in second.new_messages()] == ["user", "assistant"]
    assert second.all_messages() == [*first.all_messages(), *second.new_messages()]


@pytest.mark.anyio
async def test_message_history_accepts_dicts_and_rejects_a_broken_history():
    model, seen = recorder()
    agent = Agent(model)
    await agent.run("next", message_history=[{"role": "user", "content": "hello"}])
    assert seen[-1].messages[0] == UserMessage(content="hello")

    orphan = [ToolResultMessage(tool_call_id="nope", content="x")]
    with pytest.raises(MessageError, match=r"message_history: .*unknown tool call id 'nope'"):
        await agent.run("next", message_history=orphan)
    with pytest.raises(UserError, match="message_history is a list of messages"):
        await agent.run("next", message_history="hello")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_message_history_with_a_stored_thread_is_refused_and_stores_nothing():
    store = MemoryStore()
    agent = Agent("test", store=store)
    with pytest.raises(UserError, match="either message_history or a thread_id"):
        await agent.run("x", thread_id="t1", message_history=[UserMessage(content="a")])
    assert await store.load("t1") is None


@pytest.mark.anyio
async def test_a_stored_runs_all_messages_include_the_thread():
    agent = Agent("test", store=MemoryStore())
    await agent.run("one", thread_id="t1")
    second = await agent.run("two", thread_id="t1")
    assert [m.role for m in second.all_messages()] == ["user", "assistant"] * 2


# ---------------------------------------------------------------- per-run overrides


@pytest.mark.anyio
async def test_per_run_model_and_settings_leave_the_agent_unchanged():
    base, base_seen = recorder("base")
    other, other_seen = recorder("other")
    agent = Agent(base, model_settings={"temperature": 0.1, "max_tokens": 50})

    result = await agent.run("hi", model=other, model_settings={"temperature": 0.9})
    assert result.output == "other" and result.model == other.name
    assert other_seen[0].settings == {"temperature": 0.9, "max_tokens": 50}

    assert (await agent.run("hi")).output == "base"
    assert base_seen[0].settings == {"temperature": 0.1, "max_tokens": 50}
    assert agent.model is base


@pytest.mark.anyio
async def test_a_per_run_model_string_is_resolved_once_and_closed_with_the_agent():
    agent = Agent("test")
    first = await agent.run("hi", model="test:one")
    await agent.run("hi", model="test:one")
    assert first.model == "test:one"
    assert list(agent._run_models) == ["test:one"]
    await agent.aclose()


@pytest.mark.anyio
async def test_per_run_tools_replace_the_agents_tools():
    def ping(host: str) -> str:
        """Ping a host."""
        return f"{host} alive"

    def reboot(host: str) -> str:
        """Reboot a host."""
        return "rebooted"

    model, seen = recorder()
    agent = Agent(model, tools=[ping])
    await agent.run("x", tools=[reboot])
    assert [t.name for t in seen[-1].tools] == ["reboot"]
    await agent.run("x")
    assert [t.name for t in seen[-1].tools] == ["ping"]


@pytest.mark.anyio
async def test_per_run_output_type_and_back_to_text():
    class Verdict(BaseModel):
        healthy: bool

    agent = Agent("test", output_type=Verdict)
    assert isinstance((await agent.run("x")).output, Verdict)
    assert (await agent.run("x", output_type=None)).output == "(test model) You said: x"

    class Count(BaseModel):
        devices: int

    assert (await Agent("test").run("x", output_type=Count)).output == Count(devices=0)


# ---------------------------------------------------------------- deps and dynamic prompts


@dataclass
class Inventory:
    devices: dict[str, str]


@tool
def status(name: str, ctx: RunContext[Inventory]) -> str:
    """A device's status from the run's inventory.

    Args:
        name: the device name.
    """
    return ctx.deps.devices.get(name, "unknown")


def test_a_tool_hides_a_typed_context_parameter_from_the_model():
    assert list(status.definition().parameters["properties"]) == ["name"]


@pytest.mark.anyio
async def test_deps_reach_tools_and_each_run_has_its_own():
    def reply(request: ModelRequest) -> str | AssistantMessage:
        last = request.messages[-1]
        if isinstance(last, ToolResultMessage):
            return last.text
        return AssistantMessage(
            tool_calls=[ToolCall(id="c1", name="status", arguments={"name": "r1"})]
        )

    agent = Agent(FunctionModel(reply), tools=[status], deps_type=Inventory)
    assert (await agent.run("r1?", deps=Inventory({"r1": "up"}))).output == "up"
    assert (await agent.run("r1?", deps=Inventory({"r1": "down"}))).output == "down"


@pytest.mark.anyio
async def test_deps_type_refuses_a_missing_or_wrong_deps_object():
    agent = Agent("test", deps_type=Inventory)
    with pytest.raises(UserError, match=r"needs deps: pass deps=Inventory\(...\)"):
        await agent.run("x")
    with pytest.raises(UserError, match=r"deps must be a Inventory .* got dict"):
        await agent.run("x", deps={"r1": "up"})


@pytest.mark.anyio
async def test_dynamic_system_prompts_are_evaluated_per_run_with_the_context():
    calls: list[str | None] = []

    def who(ctx: RunContext[str]) -> str:
        calls.append(ctx.user)
        return f"The user is {ctx.user}."

    async def site(ctx: RunContext[str]) -> str:
        return f"Site: {ctx.deps}."

    model, seen = recorder()
    agent = Agent(model, system_prompt=["You run a network.", who, site, lambda: ""])
    await agent.run("x", user="alice", deps="ams01")
    await agent.run("x", user="bob", deps="fra02")
    assert calls == ["alice", "bob"]
    assert seen[0].messages[0] == SystemMessage(
        content="You run a network.\n\nThe user is alice.\n\nSite: ams01."
    )
    assert seen[1].messages[0].content.endswith("The user is bob.\n\nSite: fra02.")


@pytest.mark.anyio
async def test_a_system_prompt_function_must_return_text():
    agent = Agent("test", system_prompt=lambda ctx: 42)
    with pytest.raises(UserError, match="returned int; return a str"):
        await agent.run("x")
    with pytest.raises(UserError, match="must take the run context or nothing"):
        Agent("test", system_prompt=lambda a, b: "x")
    with pytest.raises(UserError, match="a string or a function"):
        Agent("test", system_prompt=[3])  # type: ignore[list-item]


@pytest.mark.anyio
async def test_a_fixed_system_prompt_is_rendered_once():
    agent = Agent(TestModel(), system_prompt="fixed")
    first = await agent._system_prompts.render(None)  # type: ignore[arg-type]
    assert first is await agent._system_prompts.render(None)  # type: ignore[arg-type]
    assert first == [SystemMessage(content="fixed")]


@pytest.mark.anyio
async def test_a_stateless_paused_run_resumes_with_its_history_and_deps():
    from aiops_core import MiddlewareSpec

    seen_deps: list[str] = []

    @tool(metadata={"writes": True})
    def set_vlan(vlan: int, ctx: RunContext[str]) -> str:
        """Change the VLAN."""
        seen_deps.append(ctx.deps)
        return f"vlan {vlan} set on {ctx.deps}"

    def reply(request: ModelRequest) -> str | AssistantMessage:
        if isinstance(request.messages[-1], ToolResultMessage):
            return f"{len(request.messages)} messages seen"
        call = ToolCall(id="c1", name="set_vlan", arguments={"vlan": 20})
        return AssistantMessage(tool_calls=[call])

    agent = Agent(
        FunctionModel(reply), tools=[set_vlan], middleware=[MiddlewareSpec("tool_approval")]
    )
    history = [UserMessage(content="hello"), AssistantMessage(content="hi")]
    paused = await agent.run("set vlan 20", message_history=history, deps="sw1")
    assert paused.status == "pending_approval" and seen_deps == []
    done = await agent.resume(
        pending=paused.pending, approve=["c1"], message_history=history, deps="sw1"
    )
    assert seen_deps == ["sw1"]
    # history (2) + prompt + call + result; the final answer saw all of them
    assert done.output == "5 messages seen"
    assert done.all_messages()[:2] == history
