"""``providers/_clients.py``: one client per event loop, closed with its loop."""

from __future__ import annotations

import anyio
import anyio.lowlevel

from aiops_core.providers._clients import LoopClients


class FakeClient:
    def __init__(self) -> None:
        self.closed = False


def make() -> tuple[LoopClients[FakeClient], list[FakeClient]]:
    made: list[FakeClient] = []

    def factory() -> FakeClient:
        made.append(FakeClient())
        return made[-1]

    async def close(client: FakeClient) -> None:
        await anyio.lowlevel.checkpoint()  # closing may await: the loop is still alive
        client.closed = True

    return LoopClients(factory, close), made


def test_one_client_per_loop_closed_when_the_loop_ends() -> None:
    clients, made = make()

    async def use() -> FakeClient:
        first = await clients.get()
        assert await clients.get() is first
        return first

    one = anyio.run(use)
    assert one.closed
    two = anyio.run(use)
    assert two is not one and two.closed
    assert len(made) == 2
    assert len(clients) == 0


def test_aclose_closes_the_current_loop_client_and_a_new_one_can_follow() -> None:
    clients, made = make()

    async def use() -> None:
        first = await clients.get()
        await clients.aclose()
        assert first.closed
        assert len(clients) == 0
        second = await clients.get()
        assert second is not first and not second.closed
        await clients.aclose()
        await clients.aclose()  # idempotent

    anyio.run(use)
    assert len(made) == 2 and all(c.closed for c in made)
