"""Nautobot load: concurrent conversations through the chat API of a real Nautobot served by
a multi-threaded server, with a model behind the fake provider's wire, one real MCP server
and the Redis checkpoint store. Every acknowledged turn is stored once, in order, whole.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from aiops_core import RedisStore
from tests.conftest import REDIS_HOST, REDIS_PORT, require_service
from tests.mcp_servers.support import HttpServer
from tests.servers.llm import LLMServer

from .conftest import scaled
from .load import check_threads, responder, run_load
from .nautobot_server import NautobotServer, database_exists, nautobot_database
from .report import RESULTS

# Nautobot starts in about 10 s on an idle machine, and in minutes on a loaded one.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(900)]

CONVERSATIONS = scaled(50)
TURNS = 3


class Unavailable(Exception):
    """HTTP 503 with the app's error body."""


@pytest.fixture
def nautobot(tmp_path: Path) -> Iterator[tuple[NautobotServer, LLMServer, str]]:
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
    server = NautobotServer(tmp_path, llm=llm.url, mcp=mcp.url, store=store, tag=tag)
    try:
        mcp.start(timeout=60)
        server.start()
        yield server, llm, store
    finally:
        server.stop()
        llm.stop()
        mcp.stop()


async def test_50_concurrent_conversations_through_the_chat_api(nautobot) -> None:
    server, _llm, store_url = nautobot
    headers = {"Authorization": f"Token {server.token}", "Accept": "application/json"}
    limits = httpx2.Limits(max_connections=CONVERSATIONS)
    async with httpx2.AsyncClient(
        base_url=server.url, headers=headers, timeout=120, limits=limits
    ) as client:

        async def turn(thread_id: str, prompt: str) -> str:
            body = {"message": prompt, "thread_id": thread_id}
            response = await client.post("/api/plugins/ai-ops/chat/", json=body)
            if response.status_code == 503 and "error" in response.json():
                raise Unavailable(response.json()["detail"])  # a clear answer: try again later
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
            data = response.json()
            assert data["thread_id"] == thread_id and data["status"] == "completed", data
            return str(data["output"])

        load = await run_load("nautobot", turn, conversations=CONVERSATIONS, turns=TURNS)
    store = RedisStore(store_url.split("?")[0], prefix=store_url.split("prefix=")[1])
    try:
        stored = await check_threads(store, load)
        keys = [k async for k in store.client.scan_iter(match=f"{store.prefix}:*")]
        if keys:
            await store.client.delete(*keys)
    finally:
        await store.aclose()
    load.name = "Nautobot chat API (runserver, threaded)"
    RESULTS.add_load(load, stored)
    # An overloaded machine may time out a Redis connection: a 503 naming the store, at most
    # for a few turns; never a 500, a traceback or a lost turn.
    assert set(load.errors) <= {"Unavailable"}, load.messages
    assert load.failed <= load.sent // 10, load.messages
    assert load.acked <= stored <= load.sent == CONVERSATIONS * TURNS
    assert load.degraded == 0  # every turn reached the MCP server
