"""Resuming a paused run: the stored pause is the authority, and a changed one is refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec, tool
from aiops_core.agent import PendingApproval, RunResult
from aiops_core.checkpoint import MemoryStore
from aiops_core.errors import ApprovalStateError, StoreUnavailableError
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage
from aiops_core.providers import FunctionModel, ModelRequest

pytestmark = pytest.mark.anyio

RAN: list[str] = []


@pytest.fixture(autouse=True)
def _forget_runs() -> None:
    RAN.clear()


@tool(metadata={"writes": True})
async def set_vlan(vlan: int) -> str:
    """Change the VLAN."""
    RAN.append(f"set_vlan {vlan}")
    return f"vlan {vlan} set"


@tool(metadata={"writes": True})
async def erase_config(device: str) -> str:
    """Erase a device's configuration."""
    RAN.append(f"erase_config {device}")
    return "erased"


def reply(request: ModelRequest) -> Any:
    if isinstance(request.messages[-1], ToolResultMessage):
        return "done"
    return AssistantMessage(tool_calls=[ToolCall(id="c1", name="set_vlan", arguments={"vlan": 20})])


def agent(store: Any = None) -> Agent:
    return Agent(
        FunctionModel(reply),
        tools=[set_vlan, erase_config],
        store=store,
        middleware=[MiddlewareSpec("tool_approval")],
    )


async def paused(store: MemoryStore) -> tuple[RunResult, dict[str, Any]]:
    result = await agent(store).run("set vlan 20", thread_id="t")
    thread = await store.load("t")
    assert result.pending is not None and thread is not None
    return result, thread.info.metadata["pending_approval"]


async def store_pending(store: MemoryStore, data: dict[str, Any]) -> None:
    await store.append("t", [], metadata={"pending_approval": data})


async def test_the_pause_records_what_was_asked() -> None:
    store = MemoryStore()
    result, data = await paused(store)
    pending = result.pending
    assert pending is not None
    assert len(pending.pause_id) == 32 and pending.thread_id == "t"
    assert set(pending.digests) == {"c1"}
    assert data["pause_id"] == pending.pause_id and data["digests"] == pending.digests
    assert PendingApproval.from_dict(data).same_pause(pending)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda call: call.update(name="erase_config"), id="tool name"),
        pytest.param(lambda call: call.update(arguments={"vlan": 666}), id="arguments"),
    ],
)
async def test_a_pending_call_changed_in_the_store_is_refused(change: Any) -> None:
    store = MemoryStore()
    _, data = await paused(store)
    tampered = copy.deepcopy(data)
    change(tampered["calls"][0])
    await store_pending(store, tampered)
    with pytest.raises(ApprovalStateError, match=r"'c1'.*not the call the model made"):
        await agent(store).resume(thread_id="t", approve=["c1"])
    assert RAN == []


async def test_a_consistently_changed_pending_state_fails_its_digest() -> None:
    store = MemoryStore()
    _, data = await paused(store)
    tampered = copy.deepcopy(data)
    evil = {"id": "c1", "name": "erase_config", "arguments": {"device": "core1"}}
    tampered["calls"] = [evil]
    tampered["messages"][-1] = AssistantMessage(
        tool_calls=[ToolCall.model_validate(evil)]
    ).model_dump_json()
    await store_pending(store, tampered)
    with pytest.raises(ApprovalStateError, match="not the call the model made"):
        await agent(store).resume(thread_id="t", approve=["c1"])
    assert RAN == []


async def test_decisions_for_another_pause_are_refused() -> None:
    store = MemoryStore()
    shown, data = await paused(store)
    assert shown.pending is not None
    # The thread was resumed and paused again meanwhile: same call id, another pause.
    other = copy.deepcopy(data)
    other["pause_id"] = "f" * 32
    await store_pending(store, other)
    with pytest.raises(ApprovalStateError, match="no longer holds"):
        await agent(store).resume(thread_id="t", pending=shown.pending, approve=["c1"])
    with pytest.raises(ApprovalStateError, match="awaits another one"):
        await agent(store).resume(thread_id="t", pause_id=shown.pending.pause_id, approve=["c1"])
    assert RAN == []
    done = await agent(store).resume(thread_id="t", pause_id="f" * 32, approve=["c1"])
    assert done.output == "done" and RAN == ["set_vlan 20"]


async def test_a_pending_approval_passed_in_must_be_the_stored_one() -> None:
    store = MemoryStore()
    shown, _ = await paused(store)
    assert shown.pending is not None
    changed = copy.deepcopy(shown.pending)
    changed.calls = [ToolCall(id="c1", name="set_vlan", arguments={"vlan": 666})]
    with pytest.raises(ApprovalStateError, match="no longer holds"):
        await agent(store).resume(thread_id="t", pending=changed, approve=["c1"])
    done = await agent(store).resume(thread_id="t", pending=shown.pending, approve=["c1"])
    assert done.output == "done" and RAN == ["set_vlan 20"]


async def test_without_a_store_a_pending_approval_is_used_once_and_checked() -> None:
    shown = await agent().run("set vlan 20")
    assert shown.pending is not None
    tampered = copy.deepcopy(shown.pending)
    tampered.calls = [ToolCall(id="c1", name="set_vlan", arguments={"vlan": 666})]
    with pytest.raises(ApprovalStateError, match="not the call the model made"):
        await agent().resume(pending=tampered, approve=["c1"])
    assert (await agent().resume(pending=shown.pending, approve=["c1"])).output == "done"
    with pytest.raises(ApprovalStateError, match="resumed already"):
        await agent().resume(pending=shown.pending, approve=["c1"])
    assert RAN == ["set_vlan 20"]


async def test_a_failed_resume_before_the_claim_leaves_the_pause_in_place() -> None:
    store = MemoryStore()
    await paused(store)
    with pytest.raises(ApprovalStateError, match="exactly one decision"):
        await agent(store).resume(thread_id="t", approve=["nope"])
    assert (await agent(store).resume(thread_id="t", approve=["c1"])).output == "done"


async def test_a_resume_never_runs_without_the_store_that_holds_the_pause() -> None:
    class Down(MemoryStore):
        async def load(self, thread_id: str, *, owner: str | None = None) -> Any:
            raise StoreUnavailableError("down")

    store = MemoryStore()
    shown, _ = await paused(store)
    degraded = Agent(
        FunctionModel(reply),
        tools=[set_vlan],
        store=Down(),
        middleware=[MiddlewareSpec("tool_approval")],
        degrade=True,
    )
    with pytest.raises(StoreUnavailableError, match="Cannot resume thread 't'"):
        await degraded.resume(thread_id="t", pending=shown.pending, approve=["c1"])
    assert RAN == []
