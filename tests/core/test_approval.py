"""``Approval``: one approved call, matched by id, tool and canonical arguments."""

from __future__ import annotations

import pytest

from aiops_core.approval import Approval, arguments_digest
from aiops_core.context import RunContext
from aiops_core.messages import ToolCall
from aiops_core.tools import ToolInvocation


def call(**changes: object) -> ToolCall:
    fields: dict[str, object] = {
        "id": "c1",
        "name": "set_vlan",
        "arguments": {"vlan": 20, "site": {"a": 1, "b": [1, 2]}},
    }
    return ToolCall.model_validate({**fields, **changes})


def test_the_digest_is_canonical_and_tells_arguments_apart() -> None:
    reordered = call(arguments={"site": {"b": [1, 2], "a": 1}, "vlan": 20})
    assert arguments_digest(call()) == arguments_digest(reordered)
    assert arguments_digest(call()) != arguments_digest(call(arguments={"vlan": 21}))
    raw = call(arguments={}, invalid_arguments="{}")
    assert arguments_digest(raw) != arguments_digest(call(arguments={}))


def test_an_approval_covers_only_the_call_it_was_made_for() -> None:
    approval = Approval.of(call(), thread_id="t", pause_id="p")
    assert approval.covers(call())
    assert not approval.covers(call(id="c2"))
    assert not approval.covers(call(name="erase_config"))
    assert not approval.covers(call(arguments={"vlan": 20}))


def test_an_invocation_is_approved_only_with_a_covering_approval() -> None:
    context = RunContext(thread_id="t")
    approval = Approval.of(call(), thread_id="t", pause_id="p")
    assert not ToolInvocation(call(), None, context).approved
    assert ToolInvocation(call(), None, context, approval=approval).approved
    other = ToolInvocation(call(arguments={"vlan": 1}), None, context, approval=approval)
    assert not other.approved


@pytest.mark.anyio
async def test_a_tool_labelled_requires_approval_never_runs_unapproved() -> None:
    from aiops_core import Agent
    from aiops_core.errors import ApprovalRequired
    from aiops_core.tools import execute_tool, tool

    runs: list[int] = []

    @tool(name="set_vlan", metadata={"requires_approval": True})
    def set_vlan(vlan: int, site: dict) -> str:
        runs.append(vlan)
        return "done"

    context = RunContext(thread_id="t")
    with pytest.raises(ApprovalRequired):
        await execute_tool(ToolInvocation(call(), set_vlan, context))
    other = Approval.of(call(arguments={"vlan": 30, "site": {}}), thread_id="t", pause_id="p")
    with pytest.raises(ApprovalRequired):  # an approval of other arguments does not cover it
        await execute_tool(ToolInvocation(call(), set_vlan, context, approval=other))
    assert runs == []
    approval = Approval.of(call(), thread_id="t", pause_id="p")
    result = await execute_tool(ToolInvocation(call(), set_vlan, context, approval=approval))
    assert (result.text, runs) == ("done", [20])

    # In a run without any approval middleware, the call pauses the run.
    from aiops_core.messages import AssistantMessage
    from aiops_core.providers.function import FunctionModel

    agent = Agent(
        FunctionModel(lambda request: AssistantMessage(content="", tool_calls=[call()])),
        tools=[set_vlan],
    )
    paused = await agent.run("set it")
    assert paused.status == "pending_approval"
    assert runs == [20]
