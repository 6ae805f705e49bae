"""Fixtures for provider tests: the local wire-format server and models pointed at it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aiops_core.checkpoint import CheckpointStore, MemoryStore, RedisStore, SQLStore
from aiops_core.providers import ChatModel, get_chat_model
from tests.servers.llm import LLMServer

KEY = "sk-test-SECRET-4711-abcdef"
"""The API key every test model uses; tests assert it never leaks."""

PROVIDERS = [
    "openai",
    "openai-lean",
    "openai-responses",
    "openai-responses-lean",
    "azure_openai",
    "azure_openai-responses",
    "anthropic",
    "ollama",
    "huggingface",
]
"""Handlers under the contract suite: ``-lean`` is the ``openai`` handler with ``transport="lean"``,
``-responses`` the handler with ``api="responses"`` (the OpenAI Responses API)."""

RESPONSES = {"openai-responses", "openai-responses-lean", "azure_openai-responses"}
"""Contract-suite ids on the Responses API."""


def handler_name(provider: str) -> str:
    """The registry name behind a contract-suite provider id."""
    return provider.removesuffix("-lean").removesuffix("-responses")


def model_spec(provider: str, url: str) -> tuple[str, dict[str, Any]]:
    """``(spec, options)`` for a model of ``provider`` served by the local server at ``url``."""
    if provider in RESPONSES:
        spec, options = model_spec(provider.replace("-responses", ""), url)
        return spec, {**options, "api": "responses"}
    if provider == "openai":
        return "openai:gpt-4o-mini", {"api_key": KEY, "base_url": f"{url}/v1"}
    if provider == "openai-lean":
        return "openai:gpt-4o-mini", {"api_key": KEY, "base_url": f"{url}/v1", "transport": "lean"}
    if provider == "azure_openai":
        return "azure_openai:ops-gpt4o", {
            "api_key": KEY,
            "endpoint": url,
            "api_version": "2024-10-21",
        }
    if provider == "anthropic":
        return "anthropic:claude-local-test", {"api_key": KEY, "base_url": url}
    if provider == "ollama":
        return "ollama:llama3.2", {"api_key": KEY, "base_url": url}
    if provider == "huggingface":
        return "huggingface:meta-llama/Llama-3.1-8B-Instruct", {
            "api_key": KEY,
            "base_url": f"{url}/v1",
        }
    raise AssertionError(provider)


def thinking_spec(provider: str, url: str) -> tuple[str, dict[str, Any]]:
    """``(spec, options)`` of a reasoning model of ``provider`` with thinking turned on."""
    spec, options = model_spec(provider, url)
    name = handler_name(provider)
    if name == "anthropic":
        return spec, {**options, "thinking": 2048}
    if name == "ollama":
        return "ollama:qwen3", {**options, "think": True}
    if name == "huggingface":
        return "huggingface:openai/gpt-oss-120b", {**options, "reasoning_effort": "low"}
    model = "openai:gpt-5-mini" if name == "openai" else "azure_openai:ops-gpt-5-mini"
    options = {**options, "reasoning_effort": "low"}
    if provider in RESPONSES:
        options["reasoning_summary"] = "auto"  # summaries are the readable thinking there
    return model, options


STORES = ["memory", "sqlite", "postgres", "redis"]


@pytest.fixture(params=STORES)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CheckpointStore]:
    """Each checkpoint store, on a backend of its own (removed afterwards)."""
    kind = request.param
    if kind == "memory":
        made: CheckpointStore = MemoryStore()
    elif kind == "sqlite":
        made = SQLStore(f"sqlite:///{tmp_path / 'threads.db'}")
    elif kind == "postgres":
        url = request.getfixturevalue("postgres_url")
        made = SQLStore(url, schema=f"aiops_think_{uuid.uuid4().hex[:10]}")
    else:
        url = request.getfixturevalue("redis_url_factory")(13)  # the checkpoint tests' database
        made = RedisStore(url, prefix=f"think-{uuid.uuid4().hex[:10]}")
    try:
        yield made
    finally:
        if isinstance(made, SQLStore) and kind == "postgres":
            await made.drop_tables()
        elif isinstance(made, RedisStore):
            keys = [k async for k in made.client.scan_iter(match=f"{made.prefix}:*")]
            if keys:
                await made.client.delete(*keys)
        await made.aclose()


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_model(server: LLMServer) -> Callable[..., ChatModel]:
    """``make_model(provider, **config)`` -> a chat model talking to the local server."""

    def make(provider: str, **config: Any) -> ChatModel:
        spec, options = model_spec(provider, server.url)
        return get_chat_model(spec, **{**options, **config})

    return make


@pytest.fixture
def make_thinking_model(server: LLMServer) -> Callable[..., ChatModel]:
    """``make_thinking_model(provider)`` -> a reasoning model with thinking on, at the server."""

    def make(provider: str, **config: Any) -> ChatModel:
        spec, options = thinking_spec(provider, server.url)
        return get_chat_model(spec, **{**options, **config})

    return make
