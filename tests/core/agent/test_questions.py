"""A server's question (MCP elicitation) pauses the turn like a tool approval, and the answer
resumes it: the call runs again and the server gets the answer."""

from __future__ import annotations

import json

import pytest
from tests.mcp_servers.servers import features_server
from tests.mcp_servers.support import FAST

from aiops_core import Agent, MemoryStore
from aiops_core.errors import ApprovalStateError, UserError
from aiops_core.mcp import PAUSE, ElicitationResponse, MCPClientPool, memory_transport
from aiops_core.messages import AssistantMessage, ToolCall
from aiops_core.providers import FunctionModel

pytestmark = pytest.mark.anyio


def asking_model(*questions: str):
    """Calls ``ask`` once per question (one at a time), then answers with what it learnt."""
    pending = list(questions)

    def reply(request):
        last = request.messages[-1]
        if last.role == "tool" and not pending:
            return f"done: {last.text}"
        question = pending.pop(0)
        return AssistantMessage(
            tool_calls=[
                ToolCall(
                    id=f"c{len(questions) - len(pending)}",
                    name="ask",
                    arguments={"question": question},
                )
            ]
        )

    return FunctionModel(reply)


@pytest.fixture
def pool():
    server = features_server()
    return MCPClientPool(
        [{"name": "feat", "command": "x", "allow_tools": ["ask"]}],
        transport_factory=memory_transport({"feat": server}),
        elicitation=PAUSE,
        **FAST,
    )


async def test_a_question_pauses_the_turn_and_the_answer_resumes_it(pool):
    store = MemoryStore()
    async with pool:
        agent = Agent(asking_model("Who is on call?"), tools=[pool], store=store)
        paused = await agent.run("page someone", thread_id="t1")
        assert paused.status == "pending_approval"
        (call,) = paused.pending.calls
        question = paused.pending.questions[call.id]
        assert (question["server"], question["message"], question["mode"]) == (
            "feat",
            "Who is on call?",
            "form",
        )
        assert question["schema"]["required"] == ["name"]
        assert paused.pending.reasons[call.id] == "input required: Who is on call?"
        # The pause is stored with the thread, like an approval.
        thread = await store.load("t1")
        assert (
            thread.info.metadata["pending_approval"]["questions"][call.id]["key"] == question["key"]
        )

        done = await agent.resume(
            thread_id="t1", answers={call.id: ElicitationResponse.accept({"name": "Ada"})}
        )
    assert done.status == "completed"
    data = json.loads(done.output.splitlines()[-1])
    assert data == {
        "action": "accept",
        "data": {"name": "Ada", "team": "netops", "pager": True, "level": 2},
    }
    thread = await store.load("t1")
    assert thread.info.metadata.get("pending_approval") is None


async def test_a_declined_question_reaches_the_server_as_decline(pool):
    async with pool:
        agent = Agent(asking_model("Who?"), tools=[pool])
        paused = await agent.run("page someone")
        done = await agent.resume(
            pending=paused.pending, answers={"c1": {"action": "decline", "content": None}}
        )
    assert json.loads(done.output.splitlines()[-1]) == {"action": "decline", "data": None}


async def test_an_answer_that_does_not_fit_is_refused_and_the_pause_kept(pool):
    store = MemoryStore()
    async with pool:
        agent = Agent(asking_model("Who?"), tools=[pool], store=store)
        await agent.run("page someone", thread_id="t2")
        with pytest.raises(UserError, match="'name' is a required property"):
            await agent.resume(thread_id="t2", answers={"c1": {"action": "accept", "content": {}}})
        with pytest.raises(ApprovalStateError, match="'accept', 'decline' or 'cancel'"):
            await agent.resume(thread_id="t2", answers={"c1": {"action": "maybe"}})
        with pytest.raises(ApprovalStateError, match="exactly one decision"):
            await agent.resume(thread_id="t2", answers={"c9": {"action": "cancel"}})
        # Still paused: a valid answer goes through.
        done = await agent.resume(thread_id="t2", answers={"c1": {"action": "cancel"}})
    assert json.loads(done.output.splitlines()[-1]) == {"action": "cancel", "data": None}


async def test_approving_a_question_without_answering_is_refused(pool):
    async with pool:
        agent = Agent(asking_model("Who?"), tools=[pool])
        paused = await agent.run("page someone")
        with pytest.raises(ApprovalStateError, match="exactly one decision"):
            await agent.resume(
                pending=paused.pending, approve=["c1"], answers={"c1": {"action": "cancel"}}
            )


async def test_a_call_that_asks_twice_pauses_twice_and_remembers_the_first_answer():
    server = features_server()
    pool = MCPClientPool(
        [{"name": "feat", "command": "x", "allow_tools": ["change"]}],
        transport_factory=memory_transport({"feat": server}),
        elicitation=PAUSE,
        **FAST,
    )

    def model(request):
        last = request.messages[-1]
        if last.role == "tool":
            return f"result: {last.text}"
        return AssistantMessage(
            tool_calls=[ToolCall(id="c1", name="change", arguments={"device": "r1"})]
        )

    store = MemoryStore()
    async with pool:
        agent = Agent(FunctionModel(model), tools=[pool], store=store)
        first = await agent.run("change r1", thread_id="t")
        assert first.pending.questions["c1"]["message"] == "Who approves the change on r1?"
        second = await agent.resume(
            thread_id="t", answers={"c1": {"action": "accept", "content": {"name": "Ada"}}}
        )
        assert second.status == "pending_approval"
        assert second.pending.questions["c1"]["message"] == "Ada: really change r1 now?"
        done = await agent.resume(
            thread_id="t", answers={"c1": {"action": "accept", "content": {"go": True}}}
        )
    assert done.output.endswith("r1 changed, approved by Ada")
    assert server.state["changes"] == 1  # the change ran once, after both answers
