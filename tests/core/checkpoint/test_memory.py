"""``MemoryStore`` against the store contract, plus its memory footprint."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import anyio
import pytest

from aiops_core.checkpoint import CheckpointStore, MemoryStore
from aiops_core.messages import AssistantMessage, UserMessage

from .contract import StoreContract, StoreFactory


class TestMemoryStore(StoreContract):
    store_url = None

    @pytest.fixture
    def store_factory(self) -> Iterator[StoreFactory]:
        yield lambda **options: MemoryStore(**options)

    async def corrupt(self, store: CheckpointStore, thread_id: str) -> None:
        assert isinstance(store, MemoryStore)
        store._threads[thread_id].records.append(b'{"v":1,"role":"wizard"}')


def test_a_thousand_idle_threads_of_twenty_messages_fit_in_ten_megabytes() -> None:
    async def fill() -> MemoryStore:
        store = MemoryStore()
        for t in range(1000):
            for k in range(10):
                await store.append(
                    f"thread-{t}",
                    [
                        UserMessage(content=f"Is core-sw-{k:02d} up? Check its interfaces."),
                        AssistantMessage(content=f"core-sw-{k:02d} is up; 48 interfaces are up."),
                    ],
                    owner=f"user-{t % 10}",
                    title="status",
                )
        return store

    tracemalloc.start()
    try:
        store = anyio.run(fill)
        used, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(store._threads) == 1000
    assert used < 10 * 1024 * 1024, f"{used / 1e6:.1f} MB"


def test_ttl_must_be_positive() -> None:
    from aiops_core.errors import UserError

    with pytest.raises(UserError, match="ttl"):
        MemoryStore(ttl=0)
