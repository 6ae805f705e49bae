"""Fixtures for usage tests: the local wire-format LLM server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.llm import LLMServer


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer() as srv:
        yield srv
