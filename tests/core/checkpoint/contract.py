"""The checkpoint store contract: one test class every store must pass.

Use it for a new store (the Nautobot one too) by subclassing :class:`StoreContract` and providing
the ``store_factory`` fixture and :meth:`StoreContract.corrupt`::

    class TestMyStore(StoreContract):
        store_url = "mystore://..."          # or None: no new-process reopen test

        @pytest.fixture
        async def store_factory(self):        # async: stores close in the test's event loop
            made = []
            def factory(**options):           # a new store object on the same backend
                store = MyStore(..., **options)
                made.append(store)
                return store
            yield factory
            ...await store.aclose() for `made`, clean the backend up...

        async def corrupt(self, store, thread_id):
            ...write an unreadable message record into the thread...
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest

from aiops_core import Agent
from aiops_core.checkpoint import CheckpointStore
from aiops_core.checkpoint.base import now_micros
from aiops_core.errors import (
    ConflictError,
    CorruptThreadError,
    ThreadAccessError,
    UserError,
)
from aiops_core.messages import (
    AssistantMessage,
    DataPart,
    ImagePart,
    Message,
    SystemMessage,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import FunctionModel, ModelRequest
from aiops_core.summary import DEFAULT_PROMPT

from .races import AgentRaces

SRC = str(Path(__file__).resolve().parents[3] / "src")

StoreFactory = Callable[..., CheckpointStore]


def every_message_type() -> list[Message]:
    """One of each message shape the engine produces."""
    return [
        SystemMessage(content="You are a network operations assistant."),
        UserMessage(content="Is core-sw-01 up? ünïcødé ✓"),
        UserMessage(
            content=[
                TextPart(text="What is on this diagram?"),
                ImagePart(url="https://example.invalid/rack.png"),
                ImagePart(data="iVBORw0KGgo=", media_type="image/png"),
                DataPart(data={"site": "fra1", "racks": [1, 2, 3], "nested": {"ok": None}}),
            ]
        ),
        AssistantMessage(
            content="Checking.",
            tool_calls=[
                ToolCall(id="call_1", name="device_status", arguments={"name": "core-sw-01"}),
                ToolCall(id="call_2", name="broken", invalid_arguments="{not json"),
            ],
            thinking=[
                ThinkingPart(
                    text="Check core-sw-01 first. ✓",
                    signature="EqQBCkYIBxgCKkA=",
                    provider="anthropic",
                    model="claude-sonnet-4-5",
                ),
                ThinkingPart(encrypted="EmwKAhgBEgy3va==", redacted=True, provider="anthropic"),
            ],
        ),
        ToolResultMessage(
            tool_call_id="call_1",
            name="device_status",
            content=[DataPart(data={"status": "up", "uptime": 123456789012})],
        ),
        ToolResultMessage(
            tool_call_id="call_2", name="broken", content="invalid arguments", is_error=True
        ),
        AssistantMessage(
            content="core-sw-01 is up.",
            item_id="msg_1",
            thinking=[ThinkingPart(text="", encrypted="gAAAAB", id="rs_1", provider="openai")],
        ),
    ]


def turn(label: str) -> list[Message]:
    return [UserMessage(content=f"q {label}"), AssistantMessage(content=f"a {label}")]


class ManualClock:
    """A store clock (microseconds since the epoch) that a test moves by hand.

    Each reading moves it on by a microsecond, as a real clock would between two writes.
    """

    def __init__(self) -> None:
        self.now = now_micros()

    def __call__(self) -> int:
        self.now += 1
        return self.now

    async def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1_000_000)


class ServerClock:
    """For stores that take time from their server: :meth:`advance` really waits."""

    async def advance(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class StoreContract(AgentRaces):
    """Behaviour every :class:`~aiops_core.checkpoint.CheckpointStore` must show.

    It includes :class:`~tests.core.checkpoint.races.AgentRaces`: agent runs racing on a thread.
    """

    pytestmark = pytest.mark.anyio

    store_url: str | None = None
    """URL a new process opens with ``open_store`` to reach the same data (``None``: skip)."""

    server_time = False
    """Whether the store takes time from its server (no ``clock=`` seam: TTL tests wait)."""

    async def corrupt(self, store: CheckpointStore, thread_id: str) -> None:
        """Make one stored message record of ``thread_id`` unreadable."""
        raise NotImplementedError

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> CheckpointStore:
        return store_factory()

    @pytest.fixture
    def clock(self) -> ManualClock | ServerClock:
        return ServerClock() if self.server_time else ManualClock()

    @pytest.fixture
    def timed_store_factory(
        self, store_factory: StoreFactory, clock: ManualClock | ServerClock
    ) -> StoreFactory:
        """Stores that read ``clock`` (the server's time, for a store that uses it)."""
        if isinstance(clock, ServerClock):
            return store_factory
        return lambda **options: store_factory(clock=clock, **options)

    # ---------------------------------------------------------------- basics
    async def test_is_a_checkpoint_store(self, store: CheckpointStore) -> None:
        assert isinstance(store, CheckpointStore)

    async def test_load_of_unknown_thread_is_none(self, store: CheckpointStore) -> None:
        assert await store.load("nope") is None
        assert await store.delete("nope") is False

    async def test_round_trip_of_every_message_type(self, store: CheckpointStore) -> None:
        messages = every_message_type()
        await store.append("t1", messages[:3])
        await store.append("t1", messages[3:])
        thread = await store.load("t1")
        assert thread is not None
        assert thread.messages == messages
        assert [type(m) for m in thread.messages] == [type(m) for m in messages]
        assert thread.info.message_count == len(messages)

    async def test_append_returns_and_load_shows_metadata(self, store: CheckpointStore) -> None:
        first = await store.append(
            "t1", turn("1"), owner="alice", title="BGP flap", model="test:a", metadata={"k": 1}
        )
        assert (first.thread_id, first.owner, first.title, first.model) == (
            "t1",
            "alice",
            "BGP flap",
            "test:a",
        )
        assert first.message_count == 2
        assert first.metadata == {"k": 1}
        assert first.created_at.tzinfo is not None
        second = await store.append("t1", turn("2"), owner="alice", model="test:b")
        assert second.title == "BGP flap"  # kept when not given
        assert second.model == "test:b"
        assert second.created_at == first.created_at
        assert second.updated_at > first.updated_at
        assert second.message_count == 4
        thread = await store.load("t1", owner="alice")
        assert thread is not None
        assert thread.info.title == "BGP flap"
        assert thread.info.metadata == {"k": 1}
        assert thread.info.updated_at == second.updated_at
        assert thread.info.created_at == first.created_at

    async def test_metadata_merges_removes_and_keeps_json_exactly(
        self, store: CheckpointStore
    ) -> None:
        pending = {
            "calls": [{"id": "c1", "name": "reboot", "arguments": {"device": "sw1"}}],
            "messages": [],
            "reasons": {},
            "steps": 2,
            "usage": {"input_tokens": 2**40, "ratio": 0.25, "flag": True, "none": None},
        }
        await store.append("t1", turn("1"), metadata={"pending_approval": pending, "a": "x"})
        # An empty turn only updates metadata (the agent does this when a run pauses).
        info = await store.append("t1", [], metadata={"a": None, "b": [1, "2"]})
        assert info.message_count == 2
        thread = await store.load("t1")
        assert thread is not None
        assert thread.info.metadata == {"pending_approval": pending, "b": [1, "2"]}
        assert len(thread.messages) == 2

    async def test_returned_info_is_a_copy(self, store: CheckpointStore) -> None:
        info = await store.append("t1", turn("1"), metadata={"a": 1})
        info.metadata["a"] = 2
        loaded = await store.load("t1")
        assert loaded is not None
        loaded.info.metadata["a"] = 3
        again = await store.load("t1")
        assert again is not None and again.info.metadata == {"a": 1}

    async def test_appends_keep_order(self, store: CheckpointStore) -> None:
        for i in range(10):
            await store.append("t1", turn(str(i)))
        thread = await store.load("t1")
        assert thread is not None
        assert [m.content for m in thread.messages] == [
            text for i in range(10) for text in (f"q {i}", f"a {i}")
        ]

    async def test_load_last_reads_only_the_tail(self, store: CheckpointStore) -> None:
        for i in range(10):
            await store.append("t1", turn(str(i)))
        for last, first in ((3, 17), (1, 19), (20, 0), (500, 0)):
            thread = await store.load("t1", last=last)
            assert thread is not None
            everything = [text for i in range(10) for text in (f"q {i}", f"a {i}")]
            assert [m.content for m in thread.messages] == everything[first:]
            assert thread.info.message_count == 20  # the whole thread's count, for appends
        await store.append("t1", turn("10"), expected_count=20)  # a partial load's count holds
        thread = await store.load("t1", last=2)
        assert thread is not None
        assert [m.content for m in thread.messages] == ["q 10", "a 10"]
        assert await store.load("nope", last=2) is None
        for bad in (0, -1, True, 1.5):
            with pytest.raises(UserError, match="positive number of messages"):
                await store.load("t1", last=bad)  # type: ignore[arg-type]

    async def test_load_since_summary_reads_only_what_the_summary_does_not_cover(
        self, store: CheckpointStore
    ) -> None:
        everything = [text for i in range(10) for text in (f"q {i}", f"a {i}")]

        async def since(**options: Any) -> list[str]:
            thread = await store.load("t1", since_summary=True, **options)
            assert thread is not None
            assert thread.info.message_count == 20  # the whole thread's count, for appends
            assert thread.first == 20 - len(thread.messages)
            return [m.content for m in thread.messages]

        for i in range(9):
            await store.append("t1", turn(str(i)))
        no_summary = await store.load("t1", since_summary=True)  # no summary yet: everything
        assert no_summary is not None and no_summary.info.message_count == 18
        assert [m.content for m in no_summary.messages] == everything[:18]
        # The summary lands atomically with a turn, as the agent writes it.
        summary = {"text": "asked about 0-5", "upto": 12}
        await store.append("t1", turn("9"), metadata={"summary": summary}, expected_count=18)
        assert await since() == everything[12:]
        thread = await store.load("t1", since_summary=True)
        assert thread is not None and thread.first == 12
        assert thread.info.metadata["summary"] == summary
        assert await since(last=4) == everything[16:]  # both: the shorter tail
        assert await since(last=10) == everything[12:]
        whole = await store.load("t1")  # a full load still returns every message
        assert whole is not None and [m.content for m in whole.messages] == everything
        await store.append("t1", [], metadata={"summary": {"text": "all", "upto": 25}})
        assert await since() == []  # past the end: nothing to read
        await store.append("t1", [], metadata={"summary": {"text": "x", "upto": 6.0}})
        assert await since() == everything[6:]  # an integral float counts as its integer
        # Anything else under the key is not a summary: the whole thread is read.
        not_summaries: list[Any] = [
            "text only",
            ["x", 4],
            {"upto": 4},
            {"text": 4, "upto": 4},
            {"text": "x", "upto": "4"},
            {"text": "x", "upto": -1},
            {"text": "x", "upto": 2.5},
            {"text": "x", "upto": True},
            {"text": "x", "upto": 10**12},
            {"text": "x", "upto": None},
        ]
        for value in not_summaries:
            await store.append("t1", [], metadata={"summary": value})
            assert await since() == everything, value
        assert await store.load("nope", since_summary=True) is None

    async def test_invalid_thread_id_is_refused(self, store: CheckpointStore) -> None:
        with pytest.raises(UserError):
            await store.append("", turn("1"))
        with pytest.raises(UserError):
            await store.append("x" * 256, turn("1"))

    async def test_unserialisable_metadata_is_refused(self, store: CheckpointStore) -> None:
        with pytest.raises(UserError):
            await store.append("t1", turn("1"), metadata={"when": object()})

    # ---------------------------------------------------------------- owners
    async def test_owner_isolation(self, store: CheckpointStore) -> None:
        await store.append("alice-1", turn("1"), owner="alice")
        await store.append("bob-1", turn("1"), owner="bob")
        await store.append("shared", turn("1"))
        with pytest.raises(ThreadAccessError):
            await store.load("alice-1", owner="bob")
        with pytest.raises(ThreadAccessError):
            await store.append("alice-1", turn("2"), owner="bob")
        with pytest.raises(ThreadAccessError):
            await store.delete("alice-1", owner="bob")
        thread = await store.load("alice-1", owner="alice")
        assert thread is not None and len(thread.messages) == 2  # bob's append left no trace
        assert await store.load("alice-1") is not None  # trusted, unscoped caller
        assert await store.load("shared", owner="bob") is not None  # unowned: open
        alice = await store.list_threads(owner="alice")
        assert [t.thread_id for t in alice.threads] == ["alice-1"]
        assert await store.count(owner="alice") == 1
        assert await store.count(owner="carol") == 0
        assert await store.count() == 3
        assert await store.delete("alice-1", owner="alice") is True

    # ---------------------------------------------------------------- concurrency
    async def test_expected_count_detects_a_concurrent_change(self, store: CheckpointStore) -> None:
        await store.append("t1", turn("1"), expected_count=0)
        await store.append("t1", turn("2"), expected_count=2)
        with pytest.raises(ConflictError, match="t1"):
            await store.append("t1", turn("stale"), expected_count=2)
        thread = await store.load("t1")
        assert thread is not None and len(thread.messages) == 4
        with pytest.raises(ConflictError):
            await store.append("new", turn("1"), expected_count=3)
        assert await store.load("new") is None

    async def test_expected_metadata_is_checked_with_the_write(
        self, store: CheckpointStore
    ) -> None:
        claim = {"calls": [{"id": "c1", "name": "set_vlan"}], "pause": "p1", "n": 1.5, "ü": True}
        # A thread that does not exist has no metadata: "absent" holds, a value does not.
        with pytest.raises(ConflictError, match="'lock' metadata"):
            await store.append("t1", turn("x"), expected_metadata={"lock": "mine"})
        assert await store.load("t1") is None
        await store.append(
            "t1", turn("1"), metadata={"lock": claim}, expected_metadata={"lock": None}
        )
        loaded = await store.load("t1")
        assert loaded is not None
        held = loaded.info.metadata["lock"]
        for stale in (None, {**held, "pause": "p0"}, "something else"):
            with pytest.raises(ConflictError, match="t1"):
                await store.append(
                    "t1", turn("no"), metadata={"lock": None}, expected_metadata={"lock": stale}
                )
        with pytest.raises(ConflictError, match="t1"):  # a turn alone, as the agent saves one
            await store.append("t1", turn("no"), expected_metadata={"lock": None})
        # A precondition that fails writes nothing, metadata included.
        thread = await store.load("t1")
        assert thread is not None and len(thread.messages) == 2
        assert thread.info.metadata == {"lock": claim}
        # The value as loaded claims it: exactly once.
        await store.append(
            "t1", [], metadata={"lock": None}, expected_metadata={"lock": held}, expected_count=2
        )
        with pytest.raises(ConflictError):
            await store.append("t1", [], metadata={"lock": None}, expected_metadata={"lock": held})
        await store.append("t1", turn("2"), expected_metadata={"lock": None}, expected_count=2)
        thread = await store.load("t1")
        assert thread is not None and len(thread.messages) == 4 and thread.info.metadata == {}

    async def test_of_concurrent_claims_on_one_value_exactly_one_wins(
        self, store: CheckpointStore
    ) -> None:
        await store.append("t1", turn("1"), metadata={"lock": {"pause": "p1"}})
        loaded = await store.load("t1")
        assert loaded is not None
        held = loaded.info.metadata["lock"]
        outcomes: list[str] = []

        async def claim() -> None:
            try:
                await store.append(
                    "t1", [], metadata={"lock": None}, expected_metadata={"lock": held}
                )
                outcomes.append("won")
            except ConflictError:
                outcomes.append("conflict")

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(claim)
        assert sorted(outcomes) == ["conflict"] * 7 + ["won"]

    async def test_fifty_concurrent_appends_to_one_thread_all_land(
        self, store: CheckpointStore
    ) -> None:
        async with anyio.create_task_group() as group:
            for i in range(50):
                group.start_soon(store.append, "busy", turn(str(i)))
        thread = await store.load("busy")
        assert thread is not None
        assert len(thread.messages) == 100
        pairs = [thread.messages[i : i + 2] for i in range(0, 100, 2)]
        # Each turn lands whole and in one piece, in some commit order.
        labels = []
        for question, answer in pairs:
            assert str(question.content)[2:] == str(answer.content)[2:]
            labels.append(int(str(question.content)[2:]))
        assert sorted(labels) == list(range(50))
        assert thread.info.message_count == 100

    async def test_two_hundred_threads_in_parallel(self, store: CheckpointStore) -> None:
        async def one(i: int) -> None:
            await store.append(f"thread-{i}", turn(f"{i}-1"), owner=f"user-{i % 7}")
            await store.append(f"thread-{i}", turn(f"{i}-2"), owner=f"user-{i % 7}")

        async with anyio.create_task_group() as group:
            for i in range(200):
                group.start_soon(one, i)
        assert await store.count() == 200
        assert await store.count(owner="user-3") == len([i for i in range(200) if i % 7 == 3])
        for i in (0, 57, 199):
            thread = await store.load(f"thread-{i}")
            assert thread is not None
            assert [m.content for m in thread.messages] == [
                f"q {i}-1",
                f"a {i}-1",
                f"q {i}-2",
                f"a {i}-2",
            ]

    # ---------------------------------------------------------------- listing
    async def test_list_is_newest_first_with_a_cursor(self, store: CheckpointStore) -> None:
        for i in range(7):
            await store.append(f"t{i}", turn(str(i)), owner="alice")
        await store.append("t2", turn("again"), owner="alice")  # t2 is now the newest
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            page = await store.list_threads(owner="alice", limit=3, cursor=cursor)
            pages += 1
            seen += [t.thread_id for t in page.threads]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == ["t2", "t6", "t5", "t4", "t3", "t1", "t0"]
        assert pages == 3
        page = await store.list_threads(limit=1)
        assert page.threads[0].thread_id == "t2"
        assert page.threads[0].message_count == 4
        assert page.threads[0].owner == "alice"
        assert (await store.list_threads(limit=50)).next_cursor is None

    async def test_a_bad_cursor_is_a_user_error(self, store: CheckpointStore) -> None:
        with pytest.raises(UserError, match="cursor"):
            await store.list_threads(cursor="@@not-a-cursor@@")

    # ---------------------------------------------------------------- deletion, TTL
    async def test_delete(self, store: CheckpointStore) -> None:
        await store.append("t1", turn("1"))
        await store.append("t2", turn("1"))
        assert await store.delete("t1") is True
        assert await store.delete("t1") is False
        assert await store.load("t1") is None
        assert await store.count() == 1
        assert [t.thread_id for t in (await store.list_threads()).threads] == ["t2"]
        await store.append("t1", turn("fresh"))  # a deleted id starts a new thread
        thread = await store.load("t1")
        assert thread is not None and [m.content for m in thread.messages] == ["q fresh", "a fresh"]

    async def test_prune_deletes_idle_threads_and_counts_them(
        self, timed_store_factory: StoreFactory, clock: ManualClock | ServerClock
    ) -> None:
        store = timed_store_factory()
        for i in range(5):
            await store.append(f"old-{i}", turn("1"), owner="alice")
        await clock.advance(0.3)
        for i in range(3):
            await store.append(f"new-{i}", turn("1"), owner="alice")
        assert await store.prune(timedelta(seconds=0.15)) == 5
        assert await store.count() == 3
        assert await store.count(owner="alice") == 3
        assert await store.load("old-0") is None
        assert await store.load("new-0") is not None
        listed = [t.thread_id for t in (await store.list_threads(owner="alice")).threads]
        assert listed == ["new-2", "new-1", "new-0"]
        assert await store.prune(timedelta(hours=1)) == 0

    async def test_ttl_forgets_idle_threads_and_writes_refresh_it(
        self, timed_store_factory: StoreFactory, clock: ManualClock | ServerClock
    ) -> None:
        store = timed_store_factory(ttl=timedelta(seconds=0.6))
        await store.append("idle", turn("1"), owner="alice")
        await store.append("busy", turn("1"), owner="alice")
        await clock.advance(0.4)
        await store.append("busy", turn("2"), owner="alice")  # refreshes busy's TTL
        await clock.advance(0.4)
        assert await store.load("idle") is None
        busy = await store.load("busy")
        assert busy is not None and len(busy.messages) == 4
        assert await store.count() == 1
        assert await store.count(owner="alice") == 1
        assert [t.thread_id for t in (await store.list_threads()).threads] == ["busy"]
        await store.append("idle", turn("again"))  # an expired id starts afresh
        again = await store.load("idle")
        assert again is not None and len(again.messages) == 2

    # ---------------------------------------------------------------- bad data
    async def test_a_corrupt_record_fails_only_its_thread(self, store: CheckpointStore) -> None:
        await store.append("bad", turn("1"), owner="alice")
        await store.append("good", turn("1"), owner="alice")
        await self.corrupt(store, "bad")
        with pytest.raises(CorruptThreadError, match="'bad'") as caught:
            await store.load("bad")
        assert caught.value.thread_id == "bad"
        good = await store.load("good")
        assert good is not None and len(good.messages) == 2
        assert await store.count() == 2
        listed = {t.thread_id for t in (await store.list_threads()).threads}
        assert listed == {"bad", "good"}
        assert await store.delete("bad") is True  # a corrupt thread can still be removed

    # ---------------------------------------------------------------- agent integration
    async def test_agent_loads_history_and_appends_the_turn(self, store: CheckpointStore) -> None:
        seen: list[int] = []

        def reply(request: ModelRequest) -> str:
            seen.append(len(request.messages))
            return f"answer {len(seen)}"

        agent = Agent(FunctionModel(reply), store=store, system_prompt="sys")
        first = await agent.run("hello", thread_id="chat", user="alice")
        second = await agent.run("again", thread_id="chat", user="alice")
        assert (first.output, second.output) == ("answer 1", "answer 2")
        assert seen == [2, 4]  # system + user, then system + 2 history + user
        thread = await store.load("chat", owner="alice")
        assert thread is not None
        assert [m.content for m in thread.messages] == ["hello", "answer 1", "again", "answer 2"]
        assert thread.info.owner == "alice"
        assert thread.info.title == "hello"
        with pytest.raises(ThreadAccessError):
            await agent.run("mine now", thread_id="chat", user="mallory")

    async def test_a_failed_or_cancelled_run_stores_nothing(self, store: CheckpointStore) -> None:
        await Agent(FunctionModel(lambda r: "ok"), store=store).run("first", thread_id="chat")

        def boom(request: ModelRequest) -> str:
            raise RuntimeError("model exploded")

        with pytest.raises(RuntimeError):
            await Agent(FunctionModel(boom), store=store).run("second", thread_id="chat")

        async def slow(request: ModelRequest) -> str:
            await anyio.sleep(30)
            return "never"

        with anyio.move_on_after(0.2):
            await Agent(FunctionModel(slow), store=store).run("third", thread_id="chat")
        thread = await store.load("chat")
        assert thread is not None
        assert [m.content for m in thread.messages] == ["first", "ok"]

    async def test_agent_with_history_limit_sends_a_window_and_appends_to_the_whole(
        self, store: CheckpointStore
    ) -> None:
        sent: list[list[Message]] = []

        def reply(request: ModelRequest) -> Any:
            sent.append(list(request.messages))
            last = request.messages[-1]
            if isinstance(last, UserMessage):  # each turn: one tool call, then the answer
                return AssistantMessage(
                    tool_calls=[ToolCall(id=f"c{len(sent)}", name="echo", arguments={"x": 1})]
                )
            return f"answer {len(sent)}"

        def echo(x: int) -> int:
            """Echo."""
            return x

        agent = Agent(FunctionModel(reply), tools=[echo], store=store, history_limit=16)
        for n in range(12):  # 4 messages a turn: user, call, result, answer
            await agent.run(f"q {n}", thread_id="long")
        thread = await store.load("long")
        assert thread is not None and len(thread.messages) == 48  # nothing lost in the store
        windows = [request[:-1] for request in sent[::2]]  # the history sent before each question
        assert max(len(window) for window in windows) <= 16
        assert all(isinstance(w[0], UserMessage) for w in windows if w)  # never a lone result
        # The window moves in steps: consecutive turns mostly share their first message.
        starts = [w[0].content for w in windows if w]
        assert len(set(starts)) < len(starts) - 3

    async def test_agent_with_summarize_stores_the_summary_and_loads_after_it(
        self, store: CheckpointStore
    ) -> None:
        loaded: list[int] = []  # history messages each turn's first request carried

        def reply(request: ModelRequest) -> str:
            first = request.messages[0]
            if isinstance(first, SystemMessage) and first.content == DEFAULT_PROMPT:
                return "the gist"
            loaded.append(len(request.messages) - 1)
            return "answer " + "y" * 400

        agent = Agent(
            FunctionModel(reply),
            store=store,
            context_window=1_000,
            max_output=50,
            context_policy="summarize",
        )
        for n in range(8):
            await agent.run(f"q {n} " + "x" * 400, thread_id="s")
        whole = await store.load("s")
        assert whole is not None and len(whole.messages) == 16  # nothing replaced in the store
        summary = whole.info.metadata["summary"]
        assert summary["text"] == "the gist" and summary["upto"] > 0
        tail = await store.load("s", since_summary=True)
        assert tail is not None and tail.first == summary["upto"]
        assert tail.messages == whole.messages[summary["upto"] :]
        assert isinstance(tail.messages[0], UserMessage)
        assert max(loaded) < 8  # every request fit: never the whole thread

    # ---------------------------------------------------------------- another process
    async def test_a_new_process_continues_the_conversation(self, store: CheckpointStore) -> None:
        if self.store_url is None:
            pytest.skip("this store does not outlive its process")
        await store.append("t1", turn("1"), owner="alice", title="from parent")
        script = textwrap.dedent(
            """
            import json, sys, anyio
            from aiops_core import open_store
            from aiops_core.messages import AssistantMessage, UserMessage

            async def main():
                store = open_store(sys.argv[1])
                try:
                    thread = await store.load("t1", owner="alice")
                    await store.append(
                        "t1",
                        [UserMessage(content="q 2"), AssistantMessage(content="a 2")],
                        owner="alice",
                        expected_count=len(thread.messages),
                    )
                    print(json.dumps([thread.info.title, len(thread.messages)]))
                finally:
                    await store.aclose()

            anyio.run(main)
            """
        )
        env = {**os.environ, "PYTHONPATH": SRC}
        done = await anyio.run_process(
            [sys.executable, "-W", "error", "-c", script, self.store_url], env=env, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
        assert json.loads(done.stdout) == ["from parent", 2]
        thread = await store.load("t1", owner="alice")
        assert thread is not None
        assert [m.content for m in thread.messages] == ["q 1", "a 1", "q 2", "a 2"]


__all__ = ["StoreContract", "every_message_type", "turn"]
