"""Input tokens billed over a long Anthropic conversation: aiops beside LangChain and pydantic-ai.

Opt-in: it runs only where ``langchain``, ``langchain-anthropic`` and ``pydantic-ai-slim[anthropic]``
are installed (``nox -s bench_peers`` makes such an environment); elsewhere it reports nothing.

Every client holds the same conversation against its own local Anthropic wire-format server
(:mod:`tests.servers.llm`, ``caching=True``), which applies the Messages API's documented caching
rules (breakpoints, at most four, 20-block lookback, 1,024-token minimum) and records the usage it
reports: each turn the user asks about a device, the model calls ``device_status``, then answers.
The same system prompt (about 1,300 tokens) and tool for all. Billed input tokens are computed
from the server's records (cache reads at 0.1, cache writes at 1.25), so no client's own
accounting is trusted. "vs naive" divides by the same client's input tokens at full price.

Clients, each with its caching as its documentation recommends:

- aiops ``Agent`` (prompt caching is on by default), with the whole thread, and with
  ``history_limit=40``;
- LangChain ``create_agent`` with an in-memory checkpointer, without and with
  ``AnthropicPromptCachingMiddleware``;
- pydantic-ai ``Agent`` passing ``message_history``, without and with the per-block cache
  settings (``anthropic_cache_instructions``, ``anthropic_cache_tool_definitions``,
  ``anthropic_cache_messages``; the top-level automatic ``anthropic_cache`` is not modelled by
  the local server).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

from tests.servers.llm import LLMServer, Reply
from tests.servers.llm_cache import billed_input

from .bench_long_conversation import SYSTEM, device_status

KEY = "sk-ant-bench"
MODEL = "claude-sonnet-bench"
PEERS = ("langchain", "langchain_anthropic", "pydantic_ai")


def _question(n: int) -> str:
    return f"Is core-sw-{n % 97:02d} up?"


def _server() -> LLMServer:
    turn = [
        Reply(tool_calls=[("device_status", {"name": "core-sw-01"})]),
        Reply(text="core-sw-01 is up."),
    ]
    return LLMServer(turn, record=False, caching=True).start()


def _aiops(url: str, turns: int, history_limit: int | None) -> None:
    import anyio

    from aiops_core import Agent
    from aiops_core.checkpoint import MemoryStore
    from aiops_core.providers import get_chat_model

    async def talk() -> None:
        model = get_chat_model(f"anthropic:{MODEL}", api_key=KEY, base_url=url)
        agent = Agent(
            model,
            tools=[device_status],
            system_prompt=SYSTEM,
            store=MemoryStore(),
            history_limit=history_limit,
        )
        try:
            for n in range(turns):
                await agent.run(_question(n), thread_id="bench")
        finally:
            await model.aclose()

    anyio.run(talk)


def _langchain(url: str, turns: int, cache: bool) -> None:
    from langchain.agents import create_agent
    from langchain_anthropic import ChatAnthropic
    from langchain_anthropic.middleware import AnthropicPromptCachingMiddleware
    from langgraph.checkpoint.memory import InMemorySaver

    model = ChatAnthropic(model=MODEL, api_key=KEY, base_url=url, max_tokens=1024)
    agent = create_agent(
        model,
        tools=[device_status],
        system_prompt=SYSTEM,
        middleware=[AnthropicPromptCachingMiddleware()] if cache else [],
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "bench"}}
    for n in range(turns):
        agent.invoke({"messages": [{"role": "user", "content": _question(n)}]}, config)


def _pydantic_ai(url: str, turns: int, cache: bool) -> None:
    from pydantic_ai import Agent
    from pydantic_ai.models.anthropic import AnthropicModel, AnthropicModelSettings
    from pydantic_ai.providers.anthropic import AnthropicProvider

    settings = AnthropicModelSettings(max_tokens=1024)
    if cache:
        settings.update(
            anthropic_cache_instructions=True,
            anthropic_cache_tool_definitions=True,
            anthropic_cache_messages=True,
        )
    model = AnthropicModel(MODEL, provider=AnthropicProvider(api_key=KEY, base_url=url))
    agent = Agent(model, system_prompt=SYSTEM, tools=[device_status], model_settings=settings)
    history: list[Any] = []
    for n in range(turns):
        result = agent.run_sync(_question(n), message_history=history)
        history = result.all_messages()


def _measure(name: str, talk: Callable[[str], None]) -> list[Any]:
    server = _server()
    try:
        talk(server.url)
    finally:
        server.stop()
    usages = server.usages
    sent = sum(u.input_tokens for u in usages)
    billed = sum(
        billed_input("anthropic", u.input_tokens, u.cached_tokens, u.cache_write_tokens)
        for u in usages
    )
    return [name, len(usages), sent, round(billed), round(billed / sent, 3)]


def run(quick: bool = False) -> list[dict]:
    if any(importlib.util.find_spec(name) is None for name in PEERS):
        return []
    turns = 30 if quick else 200
    clients: list[tuple[str, Callable[[str], None]]] = [
        ("aiops Agent (caching on by default)", lambda url: _aiops(url, turns, None)),
        ("aiops Agent, history_limit=40", lambda url: _aiops(url, turns, 40)),
        ("LangChain create_agent", lambda url: _langchain(url, turns, False)),
        (
            "LangChain + AnthropicPromptCachingMiddleware",
            lambda url: _langchain(url, turns, True),
        ),
        ("pydantic-ai Agent", lambda url: _pydantic_ai(url, turns, False)),
        ("pydantic-ai + anthropic_cache_* settings", lambda url: _pydantic_ai(url, turns, True)),
    ]
    rows = [_measure(name, talk) for name, talk in clients]
    return [
        {
            "title": "Input tokens billed on Anthropic: aiops and its peers",
            "columns": ["client", "requests", "input tokens sent", "billed", "billed vs naive"],
            "rows": rows,
            "notes": f"{turns} turns on one conversation, 2 model calls a turn, one local "
            "Anthropic wire server per client applying the documented caching rules; billed = "
            "uncached + 0.1 x cache reads + 1.25 x cache writes, from the server's records.",
        }
    ]
