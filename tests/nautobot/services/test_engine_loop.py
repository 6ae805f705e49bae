"""The event-loop bridge: one long-lived loop, sync entry points, shared resources."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading

import pytest

from aiops_nautobot.services.engine_loop import EngineLoop, EngineTimeoutError


@pytest.fixture
def engine():
    engine = EngineLoop(name="test-engine-loop")
    yield engine
    engine.shutdown()


class Resource:
    """An async context manager that records its lifecycle."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name
        self.closed = False

    async def __aenter__(self) -> Resource:
        self.log.append(f"open {self.name}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.closed = True
        self.log.append(f"close {self.name}")


def test_many_sequential_calls_share_one_loop_and_thread(engine):
    async def where() -> tuple[int, str]:
        await asyncio.sleep(0)
        return id(asyncio.get_running_loop()), threading.current_thread().name

    seen = {engine.run(where(), timeout=5) for _ in range(300)}
    assert len(seen) == 1
    assert next(iter(seen))[1] == "test-engine-loop"


def test_a_raising_coroutine_propagates_and_the_loop_survives(engine):
    async def boom() -> None:
        raise ValueError("bad input")

    async def fine() -> str:
        return "ok"

    for _ in range(3):
        with pytest.raises(ValueError, match="bad input"):
            engine.run(boom(), timeout=5)
    assert engine.run(fine(), timeout=5) == "ok"
    assert engine.running


def test_timeout_cancels_the_coroutine(engine):
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(EngineTimeoutError):
        engine.run(slow(), timeout=0.05)
    assert cancelled.wait(5)


def test_a_timeout_error_raised_by_the_coroutine_is_not_mistaken_for_ours(engine):
    async def raises_timeout() -> None:
        raise TimeoutError("provider slow")

    with pytest.raises(TimeoutError, match="provider slow") as info:
        engine.run(raises_timeout(), timeout=5)
    assert not isinstance(info.value, EngineTimeoutError)


def test_restarts_after_the_loop_died(engine):
    async def loop_id() -> int:
        return id(asyncio.get_running_loop())

    async def running_loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    first = engine.run(loop_id(), timeout=5)
    dead = engine.run(running_loop(), timeout=5)
    dead.call_soon_threadsafe(dead.stop)  # simulate the loop dying under us
    for _ in range(100):
        if dead.is_closed():
            break
        threading.Event().wait(0.01)
    second = engine.run(loop_id(), timeout=5)
    assert second != first
    assert engine.running


def test_shutdown_closes_resources_and_refuses_new_work():
    engine = EngineLoop()
    log: list[str] = []

    async def use() -> None:
        async with engine.lease("pool", 1, lambda: Resource(log, "a")):
            pass

    engine.run(use(), timeout=5)
    engine.shutdown()
    assert log == ["open a", "close a"]
    assert not engine.running
    coro = use()
    with pytest.raises(Exception, match="shut down"):
        engine.run(coro, timeout=5)
    coro.close()


def test_lease_shares_one_resource_and_replaces_it_when_the_fingerprint_changes(engine):
    log: list[str] = []

    async def scenario() -> list[str]:
        async with engine.lease("pool", "v1", lambda: Resource(log, "v1")) as a:
            async with engine.lease("pool", "v1", lambda: Resource(log, "other")) as b:
                assert a is b
            # The configuration changes while `a` is still in use: `a` stays open until released.
            async with engine.lease("pool", "v2", lambda: Resource(log, "v2")) as c:
                assert c is not a and not a.closed
        assert a.closed and not c.closed
        return list(log)

    assert engine.run(scenario(), timeout=5) == ["open v1", "open v2", "close v1"]


def test_concurrent_first_leases_build_the_resource_once(engine):
    log: list[str] = []

    class Slow(Resource):
        async def __aenter__(self) -> Slow:
            await asyncio.sleep(0.05)
            return await super().__aenter__()  # type: ignore[return-value]

    async def scenario() -> set[int]:
        async def one() -> int:
            async with engine.lease("slow", 1, lambda: Slow(log, "s")) as value:
                return id(value)

        return set(await asyncio.gather(*(one() for _ in range(10))))

    assert len(engine.run(scenario(), timeout=5)) == 1
    assert log == ["open s"]


def test_a_failing_factory_is_not_cached(engine):
    attempts: list[int] = []

    class Broken:
        async def __aenter__(self) -> None:
            attempts.append(1)
            raise ConnectionError("down")

        async def __aexit__(self, *exc: object) -> None:  # pragma: no cover - never entered
            pass

    async def use() -> None:
        async with engine.lease("broken", 1, Broken):
            pass

    for _ in range(2):
        with pytest.raises(ConnectionError):
            engine.run(use(), timeout=5)
    assert len(attempts) == 2


def test_discard_closes_an_idle_resource(engine):
    log: list[str] = []

    async def scenario() -> None:
        async with engine.lease("pool", 1, lambda: Resource(log, "a")):
            pass
        await engine.discard("pool")
        async with engine.lease("pool", 1, lambda: Resource(log, "b")):
            pass

    engine.run(scenario(), timeout=5)
    assert log == ["open a", "close a", "open b"]


def test_iterate_streams_items_in_order(engine):
    async def numbers():
        for i in range(50):
            await asyncio.sleep(0)
            yield i

    assert list(engine.iterate(numbers(), timeout=5)) == list(range(50))


def test_iterate_raises_the_producers_error_after_its_items(engine):
    async def failing():
        yield 1
        raise RuntimeError("stream broke")

    received = []
    with pytest.raises(RuntimeError, match="stream broke"):
        for item in engine.iterate(failing(), timeout=5):
            received.append(item)
    assert received == [1]


def test_iterate_cancels_the_producer_when_the_consumer_stops(engine):
    closed = threading.Event()

    async def endless():
        try:
            i = 0
            while True:
                await asyncio.sleep(0)
                yield i
                i += 1
        finally:
            closed.set()

    stream = engine.iterate(endless(), timeout=5, max_buffer=4)
    assert next(stream) == 0
    stream.close()  # what Django does when the client goes away
    assert closed.wait(5)


def test_iterate_times_out(engine):
    async def stuck():
        yield 1
        await asyncio.sleep(30)
        yield 2  # pragma: no cover

    stream = engine.iterate(stuck(), timeout=0.1)
    assert next(stream) == 1
    with pytest.raises(EngineTimeoutError):
        next(stream)
    with contextlib.suppress(StopIteration):
        next(stream)


def test_calling_run_from_the_loop_itself_is_refused(engine):
    async def nested() -> None:
        inner = asyncio.sleep(0)
        engine.run(inner)

    with pytest.raises(Exception, match="engine loop itself"):
        engine.run(nested(), timeout=5)


def test_resources_holding_a_task_group_close_from_another_task(engine, caplog):
    """An MCP pool enters an anyio task group: it must be exited by the task that entered it."""
    import anyio

    log: list[str] = []

    class Grouped:
        def __init__(self, name: str) -> None:
            self.name = name

        async def __aenter__(self) -> Grouped:
            self.group = anyio.create_task_group()
            await self.group.__aenter__()
            self.group.start_soon(self.background)
            log.append(f"open {self.name}")
            return self

        async def background(self) -> None:
            try:
                await anyio.sleep_forever()
            finally:
                log.append(f"background of {self.name} ended")

        async def __aexit__(self, *exc: object) -> None:
            self.group.cancel_scope.cancel()
            await self.group.__aexit__(None, None, None)  # raises if exited from another task
            log.append(f"close {self.name}")

    async def use(fingerprint: int) -> None:
        async with engine.lease("grouped", fingerprint, lambda: Grouped(str(fingerprint))):
            pass

    with caplog.at_level("ERROR", logger="aiops_nautobot.engine_loop"):
        engine.run(use(1), timeout=5)
        engine.run(use(2), timeout=5)  # replaces (and closes) the idle first from another task
        for _ in range(500):
            if "close 1" in log:
                break
            threading.Event().wait(0.01)
        assert set(log) == {"open 1", "open 2", "background of 1 ended", "close 1"}
        engine.restart()  # closes the second while draining
        engine.run(use(3), timeout=5)
    assert log[4:] == ["background of 2 ended", "close 2", "open 3"]
    assert not caplog.records  # no resource failed to close


def test_iterate_fails_instead_of_hanging_when_the_loop_stops(engine):
    async def endless():
        while True:
            await asyncio.sleep(0.01)
            yield 1

    stream = engine.iterate(endless(), max_buffer=1)
    assert next(stream) == 1
    engine.restart()
    with pytest.raises(Exception, match="stopped while streaming"):
        for _ in stream:
            pass


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_a_loop_of_its_own(engine):
    async def pid() -> int:
        return os.getpid()

    assert engine.run(pid(), timeout=5) == os.getpid()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            code = 0 if engine.run(pid(), timeout=5) == os.getpid() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert engine.run(pid(), timeout=5) == os.getpid()  # the parent's loop is untouched


def test_trim_closes_the_least_recently_used_idle_resources(engine):
    log: list[str] = []

    async def scenario() -> int:
        for name in ("a", "b", "c"):
            async with engine.lease(f"user:{name}", 1, lambda n=name: Resource(log, n)):
                await asyncio.sleep(0.01)
        async with engine.lease("user:a", 1, lambda: Resource(log, "a2")):  # a is used again
            pass
        return await engine.trim("user:", keep=2)

    assert engine.run(scenario(), timeout=5) == 1
    assert log == ["open a", "open b", "open c", "close b"]


def test_iterate_holds_a_fast_producer_back_to_the_buffer_size(engine):
    produced: list[int] = []

    async def fast():
        for i in range(100):
            produced.append(i)
            yield i

    stream = engine.iterate(fast(), timeout=5, max_buffer=3)
    assert next(stream) == 0
    threading.Event().wait(0.2)  # time enough for a producer that does not wait to finish
    # One batch handed over (the buffer plus a sender it woke), a full buffer behind it and one
    # item waiting to be sent: bounded by the buffer size, not by the length of the stream.
    assert len(produced) <= (3 + 1) + 3 + 1
    assert list(stream) == list(range(1, 100))


def test_iterate_waits_for_a_slow_producer_without_a_timeout(engine):
    async def slow():
        await asyncio.sleep(0.3)
        yield "late"

    assert list(engine.iterate(slow())) == ["late"]
