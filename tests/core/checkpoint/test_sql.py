"""``SQLStore`` against the store contract on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from aiops_core import Agent
from aiops_core.checkpoint import CheckpointStore, SQLStore
from aiops_core.checkpoint.sql_schema import CheckpointMessage
from aiops_core.errors import CorruptThreadError, StoreUnavailableError, UserError
from aiops_core.providers import FunctionModel

from .contract import StoreContract, StoreFactory, turn

pytestmark = pytest.mark.anyio


async def _corrupt(store: CheckpointStore, thread_id: str) -> None:
    assert isinstance(store, SQLStore)

    def write() -> None:
        with store._engine.begin() as conn:
            conn.execute(
                sa.update(CheckpointMessage.__table__)  # type: ignore[attr-defined]
                .where(
                    CheckpointMessage.__table__.c.thread_id == thread_id,  # type: ignore[attr-defined]
                    CheckpointMessage.__table__.c.seq == 1,  # type: ignore[attr-defined]
                )
                .values(data="{truncated")
            )

    await anyio.to_thread.run_sync(write)


class TestSQLiteStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _url(self, tmp_path: Path) -> None:
        self.store_url = f"sqlite:///{tmp_path / 'data' / 'threads.db'}"

    @pytest.fixture
    async def store_factory(self) -> AsyncIterator[StoreFactory]:
        made: list[SQLStore] = []

        def factory(**options: object) -> SQLStore:
            assert self.store_url is not None
            store = SQLStore(self.store_url, **options)  # type: ignore[arg-type]
            made.append(store)
            return store

        yield factory
        for store in made:
            await store.aclose()

    async def corrupt(self, store: CheckpointStore, thread_id: str) -> None:
        await _corrupt(store, thread_id)


@pytest.mark.postgres
class TestPostgresStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _url(self, postgres_url: str) -> Iterator[None]:
        self.schema = f"aiops_test_{uuid.uuid4().hex[:10]}"
        self.store_url = f"{postgres_url}?schema={self.schema}"
        yield

        async def drop() -> None:
            async with SQLStore(postgres_url, schema=self.schema) as store:
                await store.drop_tables()

        anyio.run(drop)

    @pytest.fixture
    async def store_factory(self) -> AsyncIterator[StoreFactory]:
        made: list[SQLStore] = []

        def factory(**options: object) -> SQLStore:
            from aiops_core import open_store

            assert self.store_url is not None
            store = open_store(self.store_url, **options)
            assert isinstance(store, SQLStore)
            made.append(store)
            return store

        yield factory
        for store in made:
            await store.aclose()

    async def corrupt(self, store: CheckpointStore, thread_id: str) -> None:
        await _corrupt(store, thread_id)


async def test_missing_message_rows_are_reported_as_corruption(tmp_path: Path) -> None:
    async with SQLStore(f"sqlite:///{tmp_path / 't.db'}") as store:
        await store.append("t1", turn("1"))

        def drop_row() -> None:
            with store._engine.begin() as conn:
                conn.execute(sa.text("DELETE FROM aiops_checkpoint_message WHERE seq = 0"))

        await anyio.to_thread.run_sync(drop_row)
        with pytest.raises(CorruptThreadError, match="2 messages recorded, 1 found"):
            await store.load("t1")


async def test_in_memory_sqlite_works_and_schema_is_idempotent(tmp_path: Path) -> None:
    async with SQLStore("sqlite://") as store:
        await store.append("t1", turn("1"))
        assert await store.count() == 1
    url = f"sqlite:///{tmp_path / 't.db'}"
    for _ in range(2):
        async with SQLStore(url) as store:
            await store.append("t1", turn("1"))
    async with SQLStore(url) as store:
        thread = await store.load("t1")
        assert thread is not None and len(thread.messages) == 4


def test_configuration_mistakes_are_user_errors() -> None:
    with pytest.raises(UserError, match="sqlite and postgresql"):
        SQLStore("mysql://root@localhost/db")
    with pytest.raises(UserError, match="schema"):
        SQLStore("sqlite://", schema="x")
    with pytest.raises(UserError, match="Invalid SQL store URL"):
        SQLStore("::::")


def test_repr_hides_the_password() -> None:
    store = SQLStore("postgresql://aiops:s3cret-pw@db.example.invalid:5432/aiops")
    assert "s3cret-pw" not in repr(store)
    assert "postgresql+psycopg" in repr(store)


async def test_unreachable_postgresql_raises_store_unavailable_without_password() -> None:
    store = SQLStore("postgresql://aiops:s3cret-pw@127.0.0.1:1/aiops")
    try:
        with pytest.raises(StoreUnavailableError) as caught:
            await store.load("t1")
        assert "s3cret-pw" not in str(caught.value)
        agent = Agent(FunctionModel(lambda r: "ok"), store=store)
        with pytest.raises(StoreUnavailableError):
            await agent.run("hi", thread_id="t1")
        degraded = await Agent(FunctionModel(lambda r: "ok"), store=store, degrade=True).run(
            "hi", thread_id="t1"
        )
        assert degraded.output == "ok"
        assert any("unavailable" in w for w in degraded.warnings)
        assert all("s3cret-pw" not in w for w in degraded.warnings)
    finally:
        await store.aclose()


async def test_unwritable_sqlite_path_raises_store_unavailable() -> None:
    store = SQLStore("sqlite:////proc/aiops-cannot-exist/threads.db")
    with pytest.raises(StoreUnavailableError):
        await store.append("t1", turn("1"))
    await store.aclose()


async def test_unreadable_metadata_fails_the_thread_but_not_the_list(tmp_path: Path) -> None:
    async with SQLStore(f"sqlite:///{tmp_path / 't.db'}") as store:
        await store.append("bad", turn("1"), metadata={"a": 1})
        await store.append("good", turn("1"))

        def corrupt() -> None:
            with store._engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "UPDATE aiops_checkpoint_thread SET metadata_json = '{' "
                        "WHERE thread_id = 'bad'"
                    )
                )

        await anyio.to_thread.run_sync(corrupt)
        with pytest.raises(CorruptThreadError, match=r"'bad'.*metadata"):
            await store.load("bad")
        with pytest.raises(CorruptThreadError, match=r"'bad'.*metadata"):
            await store.load("bad", since_summary=True)
        assert (await store.load("good")) is not None
        listed = {t.thread_id: t.metadata for t in (await store.list_threads()).threads}
        assert listed == {"bad": {"corrupt": True}, "good": {}}


@pytest.mark.postgres
async def test_unreadable_metadata_fails_a_summary_load_on_postgres(postgres_url: str) -> None:
    """The one-statement load reads the summary in SQL; metadata that is not JSON is still
    reported as the thread's corruption, not as a failure of the store."""
    schema = f"aiops_test_{uuid.uuid4().hex[:10]}"
    async with SQLStore(postgres_url, schema=schema) as store:
        try:
            summary = {"text": "s", "upto": 2}
            await store.append("bad", turn("1") + turn("2"), metadata={"summary": summary})
            thread = await store.load("bad", since_summary=True)
            assert thread is not None and [m.content for m in thread.messages] == ["q 2", "a 2"]

            def corrupt() -> None:
                with store._engine.begin() as conn:
                    conn.execute(
                        sa.text(
                            f"UPDATE {schema}.aiops_checkpoint_thread SET metadata_json = '{{' "
                            "WHERE thread_id = 'bad'"
                        )
                    )

            await anyio.to_thread.run_sync(corrupt)
            for since in (False, True):
                with pytest.raises(CorruptThreadError, match=r"'bad'.*metadata"):
                    await store.load("bad", since_summary=since)
        finally:
            await store.drop_tables()


async def test_durable_false_still_keeps_every_turn(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}"
    async with SQLStore(url, durable=False) as store:
        for i in range(5):
            await store.append("t1", turn(str(i)))
    async with SQLStore(url) as store:
        thread = await store.load("t1")
        assert thread is not None and len(thread.messages) == 10
