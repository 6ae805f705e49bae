"""Fixtures of the fault-and-abuse suite: sizes, stores, the fake provider, the results table.

``AIOPS_RELIABILITY_SCALE`` scales every load (default 1: the sizes of issue 18, e.g. 500
concurrent runs per store); ``AIOPS_RELIABILITY_SCALE=0.1`` for a quick local run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiops_core.checkpoint import CheckpointStore, MemoryStore, RedisStore, SQLStore
from aiops_core.providers import ChatModel, get_chat_model
from tests.conftest import REDIS_HOST, REDIS_PORT, require_service
from tests.mcp_servers.support import HttpServer
from tests.servers.llm import LLMServer

from .load import responder
from .nautobot_server import NautobotServer, database_exists, nautobot_database
from .report import RESULTS

SCALE = float(os.environ.get("AIOPS_RELIABILITY_SCALE", "1"))

KEY = "sk-reliability-SECRET-0815"
"""The provider key of every model here; no output may show it."""


def scaled(size: int, least: int = 2) -> int:
    """``size`` times the scale, at least ``least``."""
    return max(least, round(size * SCALE))


STORES = ["memory", "sqlite", "postgres", "redis"]


async def open_test_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh store of ``kind`` on a backend namespace of its own."""
    tag = uuid.uuid4().hex[:10]
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        return SQLStore(f"sqlite:///{tmp_path / 'threads.db'}")
    if kind == "postgres":
        return SQLStore(request.getfixturevalue("postgres_url"), schema=f"aiops_rel_{tag}")
    url = request.getfixturevalue("redis_url_factory")(11)  # this suite's database
    return RedisStore(url, prefix=f"rel-{tag}")


async def close_test_store(store: CheckpointStore) -> None:
    if isinstance(store, SQLStore) and store.schema:
        await store.drop_tables()
    elif isinstance(store, RedisStore):
        keys = [k async for k in store.client.scan_iter(match=f"{store.prefix}:*")]
        if keys:
            await store.client.delete(*keys)
    await store.aclose()


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CheckpointStore]:
    """Each checkpoint store, emptied afterwards."""
    made = await open_test_store(str(request.param), request, tmp_path)
    try:
        yield made
    finally:
        await close_test_store(made)


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    """The fake provider, answering every conversation from its request (see load.responder)."""
    with LLMServer(responder=responder(), record=False) as server:
        yield server


@pytest.fixture
def make_model(llm: LLMServer) -> Callable[..., ChatModel]:
    """``make_model(**config)``: an ``openai`` model over the real wire to the fake provider."""

    def make(**config: Any) -> ChatModel:
        options = {"api_key": KEY, "base_url": f"{llm.url}/v1", **config}
        return get_chat_model("openai:gpt-4o-mini", **options)

    return make


HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is ``slow`` (CI runs them; ``-m "not slow"`` skips them while you work)
    and may take 10 minutes on a loaded machine (the whole suite: about 4 on an idle one)."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.slow)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(600))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print the results table (the same one docs/dev/reliability.md shows)."""
    lines = RESULTS.lines()
    if lines:
        terminalreporter.section("reliability results")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")  # one per module: a module may leave its server changed
def nautobot(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[NautobotServer, LLMServer, str]]:
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    require_service("PostgreSQL", "127.0.0.1", 5432)
    if shutil.which("nautobot-server") is None or not database_exists(nautobot_database()):
        message = f"the migrated Nautobot test database {nautobot_database()} is missing"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + ": run the Nautobot tests first (tests/nautobot)")
        pytest.skip(message + "; run tests/nautobot once (it migrates it)")
    tag = f"rel{uuid.uuid4().hex[:8]}"
    store = f"redis://{REDIS_HOST}:{REDIS_PORT}/11?prefix={tag}"
    mcp = HttpServer()
    llm = LLMServer(responder=responder("echo", "text"), record=False).start()
    server = NautobotServer(
        tmp_path_factory.mktemp("nautobot"), llm=llm.url, mcp=mcp.url, store=store, tag=tag
    )
    try:
        mcp.start(timeout=60)
        server.start()
        yield server, llm, store
    finally:
        server.stop()
        llm.stop()
        mcp.stop()
