"""``Agent.run_sync`` starts a new event loop per call: models must not reuse a dead loop's client."""

from __future__ import annotations

from collections.abc import Callable

import anyio

from aiops_core import Agent
from aiops_core.providers import ChatModel
from tests.servers.llm import LLMServer, Reply


def test_run_sync_twice_with_each_provider(
    provider: str, server: LLMServer, make_model: Callable[..., ChatModel]
) -> None:
    server.script(Reply(text="one"), Reply(text="two"), Reply(text="three"))
    model = make_model(provider)
    agent = Agent(model)
    assert agent.run_sync("first").output == "one"
    assert agent.run_sync("second").output == "two"
    # Each loop's client was closed when its loop shut down: none is left behind.
    assert len(model._clients) == 0  # type: ignore[attr-defined]

    async def third() -> str:
        result = await agent.run("third")
        assert len(model._clients) == 1  # type: ignore[attr-defined]
        await agent.aclose()
        assert len(model._clients) == 0  # type: ignore[attr-defined]
        return str(result.output)

    assert anyio.run(third) == "three"
