"""Nautobot load: concurrent conversations through the chat API of a real Nautobot served by
a multi-threaded server, with a model behind the fake provider's wire, one real MCP server
and the Redis checkpoint store. Every acknowledged turn is stored once, in order, whole.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx2
import pytest

from aiops_core import RedisStore
from tests.mcp_servers.support import eventually

from .conftest import scaled
from .faults import inject
from .load import Load, check_threads, run_load
from .nautobot_server import NautobotServer
from .report import RESULTS

# Nautobot starts in about 10 s on an idle machine, and in minutes on a loaded one.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(900)]

CONVERSATIONS = scaled(50)
TURNS = 3


class Unavailable(Exception):
    """HTTP 503 with the app's error body."""


Turn = Callable[[str, str], Awaitable[str]]


@asynccontextmanager
async def chat_turns(server: NautobotServer) -> AsyncIterator[Turn]:
    """``turn(thread_id, prompt)`` through the chat API as the server's superuser."""
    headers = {"Authorization": f"Token {server.token}", "Accept": "application/json"}
    # One connection per turn, as uWSGI closes each: never a request on a socket being closed.
    limits = httpx2.Limits(max_connections=CONVERSATIONS, max_keepalive_connections=0)
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

        yield turn


async def stored_turns(store_url: str, load: Load) -> int:
    """Checks the threads of ``load`` in the Redis store, then deletes them; returns turns."""
    store = RedisStore(store_url.split("?")[0], prefix=store_url.split("prefix=")[1])
    try:
        stored = await check_threads(store, load)
        keys = [k async for k in store.client.scan_iter(match=f"{store.prefix}:*")]
        if keys:
            await store.client.delete(*keys)
    finally:
        await store.aclose()
    return stored


async def test_50_concurrent_conversations_through_the_chat_api(nautobot) -> None:
    server, _llm, store_url = nautobot
    async with chat_turns(server) as turn:
        load = await run_load("nautobot", turn, conversations=CONVERSATIONS, turns=TURNS)
    stored = await stored_turns(store_url, load)
    load.name = "Nautobot chat API (uWSGI, 2 processes x 16 threads)"
    RESULTS.add_load(load, stored)
    # An overloaded machine may time out a Redis connection: a 503 naming the store, at most
    # for a few turns; never a 500, a traceback or a lost turn.
    assert set(load.errors) <= {"Unavailable"}, load.messages
    assert load.failed <= load.sent // 10, load.messages
    assert load.acked <= stored <= load.sent == CONVERSATIONS * TURNS
    assert load.degraded == 0  # every turn reached the MCP server


# What a client sees of a turn whose worker died: the connection closes without an answer.
DROPPED = {"ReadError", "RemoteProtocolError", "Unavailable"}


async def test_a_worker_killed_mid_load_loses_no_acknowledged_turn(nautobot) -> None:
    server, _llm, store_url = nautobot
    victim = server.workers()[0]

    def kill() -> None:
        os.kill(victim, signal.SIGKILL)

    async def respawned() -> None:  # the master starts a new worker; the other one kept serving
        await eventually(lambda: len(server.workers()) == 2 and victim not in server.workers(), 120)

    async with chat_turns(server) as turn:
        load = await run_load(
            "nautobot-kill",
            turn,
            conversations=CONVERSATIONS,
            turns=TURNS,
            during=inject(kill, respawned, after_acks=CONVERSATIONS // 2),
            settle=2.0,
        )
    stored = await stored_turns(store_url, load)
    seen = f"{load.failed} turns dropped with the worker, then normal answers"
    RESULTS.add_fault("Nautobot uWSGI worker killed (SIGKILL)", load, seen)
    # Only the turns the dead worker was serving fail (16 threads), each as a dropped
    # connection; acknowledged turns are all stored once and whole, the rest whole or not at all.
    assert set(load.errors) <= DROPPED, load.messages
    assert load.failed <= 16 + load.sent // 20, load.messages
    assert load.acked <= stored <= load.sent
    assert load.recovery() is not None, "no normal answer after the worker was replaced"
