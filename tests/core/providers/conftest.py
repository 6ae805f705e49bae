"""Fixtures for provider tests: the local wire-format server and models pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aiops_core.providers import ChatModel, get_chat_model
from tests.servers.llm import LLMServer

KEY = "sk-test-SECRET-4711-abcdef"
"""The API key every test model uses; tests assert it never leaks."""

PROVIDERS = ["openai", "openai-lean", "azure_openai", "anthropic", "ollama", "huggingface"]
"""Handlers under the contract suite; ``openai-lean`` is the ``openai`` handler, ``transport="lean"``."""


def handler_name(provider: str) -> str:
    """The registry name behind a contract-suite provider id."""
    return provider.removesuffix("-lean")


def model_spec(provider: str, url: str) -> tuple[str, dict[str, Any]]:
    """``(spec, options)`` for a model of ``provider`` served by the local server at ``url``."""
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
