"""Core library load: 500 concurrent conversations on each checkpoint store.

A real ``openai`` model (its lean transport) over HTTP to the fake provider, a local tool, the retry middleware: every
turn is two model calls, one tool call and one store append. Afterwards every acknowledged turn
is in its thread, in order, exactly once, and no turn is stored half.
"""

from __future__ import annotations

import pytest

from aiops_core import Agent, MiddlewareSpec

from .conftest import scaled
from .load import check_threads, run_load
from .report import RESULTS

pytestmark = pytest.mark.anyio

CONVERSATIONS = scaled(500)
TURNS = 2


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


async def test_500_concurrent_conversations_on_each_store(request, store, make_model) -> None:
    agent = Agent(
        make_model(transport="lean"),  # the SDK's request building would dominate the run
        tools=[lookup],
        store=store,
        middleware=[MiddlewareSpec("retry", config={"initial_delay": 0.05})],
    )

    async def turn(thread_id: str, prompt: str) -> str:
        result = await agent.run(prompt, thread_id=thread_id)
        return str(result.output)

    name = f"core-{request.node.callspec.params['store']}"
    load = await run_load(name, turn, conversations=CONVERSATIONS, turns=TURNS)
    stored = await check_threads(store, load)
    RESULTS.add_load(load, stored)
    assert not load.errors, load.messages
    assert load.acked == stored == load.sent == CONVERSATIONS * TURNS
