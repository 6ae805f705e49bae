"""``tool_approval``: tools that write pause the run; resume approves or rejects them."""

from __future__ import annotations

from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec, tool
from aiops_core.checkpoint import MemoryStore
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage

from .conftest import Script

pytestmark = pytest.mark.anyio

CHANGES: list[str] = []


@tool(metadata={"writes": True})
async def set_interface_description(device: str, description: str) -> str:
    """Change an interface description."""
    CHANGES.append(f"{device}:{description}")
    return "changed"


@tool
async def get_device(device: str) -> str:
    """Read a device."""
    return f"{device} is a switch"


@tool
async def nautobot_delete_device(device: str) -> str:
    """Delete a device."""
    CHANGES.append(f"deleted {device}")
    return "deleted"


@pytest.fixture(autouse=True)
def _clear() -> None:
    CHANGES.clear()


def approval(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("tool_approval", config=config)


def plan() -> Script:
    """Step 1: a read and a write together; step 2: the final answer."""
    calls = [
        ToolCall(id="read", name="get_device", arguments={"device": "sw1"}),
        ToolCall(
            id="write",
            name="set_interface_description",
            arguments={"device": "sw1", "description": "uplink"},
        ),
    ]

    def reply(request: Any) -> Any:
        results = [m for m in request.messages if isinstance(m, ToolResultMessage)]
        if not results:
            return AssistantMessage(tool_calls=calls)
        return "final: " + "; ".join(
            f"{r.tool_call_id}={'error' if r.is_error else r.text}" for r in results
        )

    return Script(reply)


async def test_pause_then_approve_runs_the_write_and_finishes() -> None:
    store = MemoryStore()
    agent = Agent(
        plan().model,
        tools=[get_device, set_interface_description],
        store=store,
        middleware=[approval()],
    )
    paused = await agent.run("label the uplink", thread_id="t", user="alice")
    assert paused.status == "pending_approval" and paused.output is None
    assert paused.pending is not None
    assert [c.id for c in paused.pending.calls] == ["write"]
    assert "needs approval" in paused.pending.reasons["write"]
    assert CHANGES == []  # nothing written yet; the read already ran
    thread = await store.load("t")
    assert thread is not None and "pending_approval" in thread.info.metadata

    done = await agent.resume(thread_id="t", approve=["write"], user="alice")
    assert done.status == "completed"
    assert done.output == "final: read=sw1 is a switch; write=changed"
    assert CHANGES == ["sw1:uplink"]
    thread = await store.load("t")
    assert thread is not None and "pending_approval" not in thread.info.metadata


async def test_a_call_reusing_an_approved_id_later_in_the_resumed_run_pauses_again() -> None:
    # Models number their calls per response, so "call_0" comes back: an approval is not an id.
    def write(description: str) -> AssistantMessage:
        arguments = {"device": "sw1", "description": description}
        return AssistantMessage(
            tool_calls=[
                ToolCall(id="call_0", name="set_interface_description", arguments=arguments)
            ]
        )

    script = Script(write("uplink"), write("uplink"), write("downlink"), "done")
    store = MemoryStore()
    agent = Agent(
        script.model, tools=[set_interface_description], store=store, middleware=[approval()]
    )
    first = await agent.run("label it", thread_id="t")
    assert first.pending is not None and [c.id for c in first.pending.calls] == ["call_0"]
    again = await agent.resume(thread_id="t", approve=["call_0"])
    # The approved call ran once; the same id with the same arguments, one step later, asks again.
    assert CHANGES == ["sw1:uplink"]
    assert again.status == "pending_approval" and again.pending is not None
    assert again.pending.pause_id != first.pending.pause_id
    third = await agent.resume(thread_id="t", approve=["call_0"], pause_id=again.pending.pause_id)
    assert CHANGES == ["sw1:uplink", "sw1:uplink"]
    assert third.status == "pending_approval"  # and with other arguments, too
    assert third.pending is not None
    assert third.pending.calls[0].arguments["description"] == "downlink"
    done = await agent.resume(thread_id="t", approve=["call_0"])
    assert done.status == "completed" and done.output == "done"
    assert CHANGES == ["sw1:uplink", "sw1:uplink", "sw1:downlink"]


async def test_pause_then_reject_tells_the_model() -> None:
    store = MemoryStore()
    agent = Agent(
        plan().model,
        tools=[get_device, set_interface_description],
        store=store,
        middleware=[approval()],
    )
    await agent.run("label the uplink", thread_id="t")
    done = await agent.resume(thread_id="t", reject=["write"])
    assert done.output == "final: read=sw1 is a switch; write=error"
    assert CHANGES == []


async def test_name_globs_and_exemptions() -> None:
    script = Script(
        AssistantMessage(
            tool_calls=[ToolCall(id="d", name="nautobot_delete_device", arguments={"device": "x"})]
        ),
        "ok",
    )
    agent = Agent(
        script.model,
        tools=[nautobot_delete_device],
        store=MemoryStore(),
        middleware=[approval(tools=["nautobot_*"])],
    )
    assert (await agent.run("delete x", thread_id="t")).status == "pending_approval"
    exempt = Agent(
        script.model,
        tools=[nautobot_delete_device],
        middleware=[approval(tools=["nautobot_*"], exempt=["*_delete_*"])],
    )
    assert (await exempt.run("delete x")).status == "completed"


async def test_reads_and_unlabelled_tools_run_without_approval() -> None:
    script = Script(
        AssistantMessage(
            tool_calls=[ToolCall(id="r", name="get_device", arguments={"device": "x"})]
        ),
        "ok",
    )
    agent = Agent(script.model, tools=[get_device], middleware=[approval()])
    assert (await agent.run("read")).status == "completed"
    writes_off = Agent(
        plan().model,
        tools=[get_device, set_interface_description],
        middleware=[approval(writes=False)],
    )
    assert (await writes_off.run("label")).status == "completed"
    assert CHANGES == ["sw1:uplink"]


def test_config_errors_name_the_field() -> None:
    from aiops_core.errors import UserError
    from aiops_core.middleware import resolve_specs

    with pytest.raises(UserError, match=r"invalid config reason: .*may use \{tool\}"):
        resolve_specs([approval(reason="{device} needs approval")])
