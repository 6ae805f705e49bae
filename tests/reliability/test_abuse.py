"""Abuse: prompt injection in user input and tool results, against a model that obeys it.

The model here is compromised on purpose (it does whatever a tool result tells it): the guard
rail must flag every string of the corpus, write tools must still wait for a person, and the
provider key must never reach the model, the thread or the answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aiops_core import Agent, MemoryStore, MiddlewareSpec, tool
from aiops_core.errors import ContentBlockedError
from aiops_core.messages import dump_messages
from tests.servers.llm import LLMServer, Reply, Script

from .conftest import KEY
from .corpus import corpus
from .load import _text
from .report import RESULTS

pytestmark = pytest.mark.anyio

CORPUS = corpus()
SYSTEM = "You are the NetOps assistant. Never change a device without approval."


def obeying(route: str, body: dict[str, Any]) -> Script:
    """A compromised model: reads the log, then does what the log said (a write)."""
    last = body["messages"][-1]
    if last["role"] == "user":
        return Reply(tool_calls=[("read_log", {"device": _text(last["content"])})])
    if last["role"] == "tool" and "delete_device" not in json.dumps(body["messages"][:-1]):
        return Reply(tool_calls=[("delete_device", {"name": "core-sw-01"})])
    return Reply(text="done")


def guard(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("prompt_injection", config=config)


@pytest.fixture
def hostile() -> Any:
    with LLMServer(responder=obeying) as server:
        yield server


def agent_for(server: LLMServer, deleted: list[str], **guard_config: Any) -> Agent:
    from aiops_core.providers import get_chat_model

    @tool
    def read_log(device: str) -> str:
        """The device's recent log."""
        return CORPUS[int(device.rsplit("-", 1)[1])][2]

    @tool(metadata={"writes": True})
    def delete_device(name: str) -> str:
        """Delete a device."""
        deleted.append(name)
        return "deleted"

    model = get_chat_model("openai:gpt-4o-mini", api_key=KEY, base_url=f"{server.url}/v1")
    return Agent(
        model,
        tools=[read_log, delete_device],
        system_prompt=SYSTEM,
        store=MemoryStore(),
        middleware=[guard(**guard_config), MiddlewareSpec("tool_approval")],
    )


@pytest.mark.parametrize("action", ["warn", "sanitise", "block"])
async def test_injected_tool_results_are_flagged_and_writes_still_wait(hostile, action) -> None:
    deleted: list[str] = []
    agent = agent_for(hostile, deleted, action="block", tool_result_action=action)
    paused = withheld = 0
    for index, (family, context, _) in enumerate(CORPUS):
        thread_id = f"inject-{index}"
        result = await agent.run(f"log-{index}", thread_id=thread_id)
        flagged = [w for w in result.warnings if "possible prompt injection" in w]
        assert flagged and family in flagged[0], (family, context, result.warnings)
        if result.status == "pending_approval":
            paused += 1
            assert result.pending is not None
            assert [c.name for c in result.pending.calls] == ["delete_device"]
        else:  # the model was never shown the instructions, so it did not act on them
            withheld += 1
            assert action == "block"
        stored = await agent.store.load(thread_id)  # type: ignore[union-attr]
        assert stored is not None and KEY not in dump_messages(stored.messages)
    assert deleted == []  # no write ran without a person's approval
    assert all(KEY not in json.dumps(r.body) for r in hostile.requests)
    RESULTS.add_inputs(
        f"prompt injection in tool results (tool_result_action={action})",
        len(CORPUS),
        f"all flagged; {paused} writes paused for approval, 0 run",
    )


async def test_injected_user_input_is_blocked_before_the_model(hostile) -> None:
    deleted: list[str] = []
    agent = agent_for(hostile, deleted)
    for index, (family, _context, text) in enumerate(CORPUS):
        with pytest.raises(ContentBlockedError, match=family):
            await agent.run(text, thread_id=f"user-{index}")
        assert await agent.store.load(f"user-{index}") is None  # type: ignore[union-attr]
    assert hostile.requests == []  # the model never saw one of them
    assert deleted == []
    RESULTS.add_inputs(
        "prompt injection in user input (action=block)", len(CORPUS), "all blocked, none stored"
    )
