"""Store faults injected while conversations run: Redis restarted, PostgreSQL connections
terminated. Turns fail with a clear error (or run unsaved, saying so, when the agent degrades)
and the same agent and store recover without a restart; no acknowledged turn is lost.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa

from aiops_core import Agent, MiddlewareSpec, RedisStore, SQLStore
from aiops_core.checkpoint.sql import normalise_url
from tests.mcp_servers.support import free_port, wait_until

from .conftest import close_test_store, scaled
from .faults import inject
from .load import check_threads, run_load
from .report import RESULTS

pytestmark = pytest.mark.anyio

CONVERSATIONS = scaled(50)
TURNS = 6
RETRY = MiddlewareSpec("retry", config={"initial_delay": 0.05})


class NotSaved(Exception):
    """A degraded turn: answered, with the warning that it was not saved."""


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


class RedisServer:
    """A redis-server of the test's own, on a free port, persisting every write (AOF, fsync
    always) so a restart keeps what it acknowledged."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    def ping(self) -> bool:
        done = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
        )
        return done.stdout.strip() == b"PONG"

    def start(self) -> None:
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self.ping)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


async def store_load(name: str, store, make_model, start, until, *, degrade: bool):
    agent = Agent(make_model(), tools=[lookup], store=store, middleware=[RETRY], degrade=degrade)

    async def turn(thread_id: str, prompt: str) -> str:
        result = await agent.run(prompt, thread_id=thread_id)
        if result.warnings:
            raise NotSaved("; ".join(result.warnings))
        return str(result.output)

    load = await run_load(
        name,
        turn,
        conversations=CONVERSATIONS,
        turns=TURNS,
        during=inject(start, until, after_acks=CONVERSATIONS),
        pause=0.05,
    )
    stored = await check_threads(store, load)
    # Acknowledged turns are all there; a failed turn may be stored whole (the write landed,
    # its reply was lost), never half (check_threads).
    assert load.acked <= stored <= load.sent
    assert load.recovery() is not None, "no turn succeeded after the fault"
    return load


@pytest.mark.parametrize("degrade", [False, True], ids=["fail", "degrade"])
async def test_redis_restarted_mid_load(redis_server: RedisServer, make_model, degrade) -> None:
    store = RedisStore(f"redis://127.0.0.1:{redis_server.port}/0", prefix="rel")

    async def restart() -> None:
        redis_server.kill()
        await anyio.sleep(0.5)
        await anyio.to_thread.run_sync(redis_server.start)

    name = f"Redis killed and restarted ({'degrade' if degrade else 'fail'})"
    try:
        load = await store_load(name, store, make_model, restart, lambda: None, degrade=degrade)
    finally:
        await store.aclose()
    expected = {"NotSaved"} if degrade else {"StoreUnavailableError"}
    assert set(load.errors) == expected, load.messages
    message = next(iter(load.messages.values()))
    assert f"127.0.0.1:{redis_server.port}" in message  # names the store it could not reach
    seen = f"{next(iter(expected))}: {message[:70]}"
    RESULTS.add_fault(name, load, seen)


async def test_postgres_connections_terminated_mid_load(postgres_url: str, make_model) -> None:
    schema = f"aiops_rel_{uuid.uuid4().hex[:10]}"
    store = SQLStore(postgres_url, schema=schema)
    admin = sa.create_engine(normalise_url(postgres_url), isolation_level="AUTOCOMMIT")
    terminated: list[int] = []

    def terminate() -> None:
        with admin.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            ).all()
        terminated.append(len(rows))

    name = "PostgreSQL connections terminated"
    try:
        load = await store_load(
            name,
            store,
            make_model,
            lambda: anyio.to_thread.run_sync(terminate),
            lambda: None,
            degrade=False,
        )
    finally:
        admin.dispose()
        await close_test_store(store)
    assert terminated and terminated[0] > 0
    assert set(load.errors) <= {"StoreUnavailableError"}, load.messages
    seen = (
        f"StoreUnavailableError: {load.messages['StoreUnavailableError'][:70]}"
        if load.errors
        else "nothing (connections replaced)"
    )
    RESULTS.add_fault(name, load, seen)
