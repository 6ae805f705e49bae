"""``Approval``: one approved call, matched by id, tool and canonical arguments."""

from __future__ import annotations

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
