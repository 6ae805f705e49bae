"""Part of the store contract: agent runs that race on one thread, against every store.

Two resumes of one paused run, two turns, a pause and a turn, a resume and a turn: each time
exactly one succeeds, the other fails with a clear error (``ConflictError`` or
``ApprovalStateError``, which the Nautobot app answers with HTTP 409), the write tool runs at
most once and the stored thread has no lost or duplicated message.

To make the runs really race, :class:`LoadBarrier` holds every load until all racers have
loaded: they then all act on the same state, and only the store's atomic preconditions decide.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from aiops_core import Agent, MiddlewareSpec, tool
from aiops_core.agent import RunResult
from aiops_core.checkpoint import CheckpointStore, Thread
from aiops_core.errors import ApprovalStateError, ConflictError
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage, UserMessage
from aiops_core.providers import FunctionModel, ModelRequest

__all__ = ["AgentRaces", "LoadBarrier"]


class LoadBarrier:
    """A store whose loads all return together once ``parties`` of them have been made."""

    def __init__(self, store: CheckpointStore, parties: int = 2) -> None:
        self._store = store
        self._parties = parties
        self._arrived = 0
        self._all_loaded = anyio.Event()

    async def load(self, thread_id: str, *, owner: str | None = None) -> Thread | None:
        thread = await self._store.load(thread_id, owner=owner)
        self._arrived += 1
        if self._arrived >= self._parties:
            self._all_loaded.set()
        with anyio.fail_after(10):
            await self._all_loaded.wait()
        return thread

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def race(*runs: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Run the calls concurrently; each one's result or exception, in order."""
    outcomes: list[Any] = [None] * len(runs)

    async def one(index: int) -> None:
        try:
            outcomes[index] = await runs[index]()
        except (ApprovalStateError, ConflictError) as err:
            outcomes[index] = err

    async with anyio.create_task_group() as group:
        for index in range(len(runs)):
            group.start_soon(one, index)
    return outcomes


def kinds(outcomes: list[Any]) -> list[str]:
    return sorted(type(o).__name__ for o in outcomes)


class Writes:
    """A write tool that counts its executions, and an agent whose model calls it once."""

    def __init__(self) -> None:
        self.executions: list[int] = []
        self.during: Callable[[], Awaitable[Any]] | None = None  # runs inside the tool

        @tool(metadata={"writes": True})
        async def set_vlan(vlan: int) -> str:
            """Change the VLAN."""
            self.executions.append(vlan)
            if self.during is not None:
                await self.during()
            return f"vlan {vlan} set"

        self.tool = set_vlan

    def agent(self, store: Any) -> Agent:
        def reply(request: ModelRequest) -> Any:
            last = request.messages[-1]
            if isinstance(last, ToolResultMessage):
                return f"done: {last.text}"
            if isinstance(last, UserMessage) and last.text.startswith("set"):
                return AssistantMessage(
                    tool_calls=[ToolCall(id="c1", name="set_vlan", arguments={"vlan": 20})]
                )
            return f"answer to {last.text if isinstance(last, UserMessage) else '?'}"

        return Agent(
            FunctionModel(reply),
            tools=[self.tool],
            store=store,
            middleware=[MiddlewareSpec("tool_approval")],
        )


def contents(thread: Thread | None) -> list[str]:
    assert thread is not None
    return [
        m.text if isinstance(m, UserMessage | ToolResultMessage) else f"{m.role}:{m.content}"
        for m in thread.messages
    ]


class AgentRaces:
    """Races of agent runs on one thread (mixed into the store contract)."""

    pytestmark = pytest.mark.anyio

    async def test_two_concurrent_resumes_run_the_write_tool_once(
        self, store: CheckpointStore
    ) -> None:
        writes = Writes()
        paused = await writes.agent(store).run("set vlan 20", thread_id="t", user="alice")
        assert paused.status == "pending_approval" and writes.executions == []
        racing = writes.agent(LoadBarrier(store))

        def resume() -> Awaitable[RunResult]:
            return racing.resume(thread_id="t", approve=["c1"], user="alice")

        outcomes = await race(resume, resume)
        assert writes.executions == [20]
        assert kinds(outcomes) == ["ConflictError", "RunResult"]
        assert "resumed by another request" in str(
            next(o for o in outcomes if isinstance(o, ConflictError))
        )
        thread = await store.load("t")
        assert contents(thread) == [
            "set vlan 20",
            "assistant:",
            "vlan 20 set",
            "assistant:done: vlan 20 set",
        ]
        assert thread is not None and "pending_approval" not in thread.info.metadata
        # The paused run is used up: a third resume finds nothing to approve.
        with pytest.raises(ApprovalStateError, match="Nothing awaits approval"):
            await writes.agent(store).resume(thread_id="t", approve=["c1"], user="alice")
        assert writes.executions == [20]

    async def test_concurrent_turns_on_one_thread_store_exactly_one(
        self, store: CheckpointStore
    ) -> None:
        for thread_id, history in (("new", []), ("old", ["q 0", "assistant:a 0"])):
            if history:
                await store.append(
                    thread_id, [UserMessage(content="q 0"), AssistantMessage(content="a 0")]
                )
            agent = Writes().agent(LoadBarrier(store))
            outcomes = await race(
                lambda a=agent, t=thread_id: a.run("first", thread_id=t),
                lambda a=agent, t=thread_id: a.run("second", thread_id=t),
            )
            assert kinds(outcomes) == ["ConflictError", "RunResult"], thread_id
            (won,) = [o for o in outcomes if isinstance(o, RunResult)]
            prompt = won.messages[0].text
            assert contents(await store.load(thread_id)) == [
                *history,
                prompt,
                f"assistant:answer to {prompt}",
            ]

    async def test_a_pause_racing_a_turn_leaves_one_of_them(self, store: CheckpointStore) -> None:
        writes = Writes()
        agent = writes.agent(LoadBarrier(store))
        outcomes = await race(
            lambda: agent.run("set vlan 20", thread_id="t"),
            lambda: agent.run("hello", thread_id="t"),
        )
        assert kinds(outcomes) == ["ConflictError", "RunResult"]
        (won,) = [o for o in outcomes if isinstance(o, RunResult)]
        thread = await store.load("t")
        assert thread is not None
        if won.status == "pending_approval":  # the pause won: nothing stored but the pause
            assert thread.messages == [] and "pending_approval" in thread.info.metadata
        else:
            assert contents(thread) == ["hello", "assistant:answer to hello"]
            assert "pending_approval" not in thread.info.metadata
        assert writes.executions == []

    async def test_a_turn_loaded_with_the_pause_is_refused_while_the_resume_runs(
        self, store: CheckpointStore
    ) -> None:
        writes = Writes()
        await writes.agent(store).run("set vlan 20", thread_id="t")
        agent = writes.agent(LoadBarrier(store))
        outcomes = await race(
            lambda: agent.resume(thread_id="t", approve=["c1"]),
            lambda: agent.run("hello", thread_id="t"),
        )
        assert kinds(outcomes) == ["ApprovalStateError", "RunResult"]
        assert writes.executions == [20]
        assert contents(await store.load("t"))[-1] == "assistant:done: vlan 20 set"

    async def test_a_turn_stored_while_a_resume_runs_its_tool_wins(
        self, store: CheckpointStore
    ) -> None:
        writes = Writes()
        await writes.agent(store).run("set vlan 20", thread_id="t")
        other: list[RunResult] = []

        async def meanwhile() -> None:  # a new turn, started and stored after the claim
            other.append(await writes.agent(store).run("hello", thread_id="t"))

        writes.during = meanwhile
        with pytest.raises(ConflictError, match="'t' changed concurrently"):
            await writes.agent(store).resume(thread_id="t", approve=["c1"])
        assert writes.executions == [20] and other[0].status == "completed"
        thread = await store.load("t")
        assert contents(thread) == ["hello", "assistant:answer to hello"]
        assert thread is not None and "pending_approval" not in thread.info.metadata
