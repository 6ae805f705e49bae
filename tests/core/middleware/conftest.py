"""Helpers for middleware tests: scripted models, a recording middleware, a scripted provider."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aiops_core.messages import AssistantMessage, ToolCall
from aiops_core.providers import (
    FunctionModel,
    ModelRequest,
    ProviderConfig,
    ProviderHandler,
    provider_registry,
)


class Script:
    """A FunctionModel driven by a list of steps; records every request it receives.

    Each step is a str / AssistantMessage / ModelResponse to answer with, an exception to raise,
    or a callable ``(request) -> step``. The last step repeats when the list runs out.
    """

    def __init__(self, *steps: Any, name: str = "script") -> None:
        self.steps = list(steps) or ["ok"]
        self.requests: list[ModelRequest] = []
        self.model = FunctionModel(self._reply, model_name=name)

    def _reply(self, request: ModelRequest) -> Any:
        self.requests.append(request)
        index = min(len(self.requests), len(self.steps)) - 1
        step = self.steps[index]
        if callable(step) and not isinstance(step, type):
            step = step(request)
        if isinstance(step, BaseException):
            raise step
        return step

    @property
    def calls(self) -> int:
        return len(self.requests)


def call(tool_name: str, call_id: str = "c1", /, **arguments: Any) -> AssistantMessage:
    """An assistant message asking for one tool call."""
    return AssistantMessage(tool_calls=[ToolCall(id=call_id, name=tool_name, arguments=arguments)])


@pytest.fixture
def scripted_provider() -> Iterator[dict[str, Script]]:
    """Registers provider ``scripted``: ``get_chat_model("scripted:NAME")`` answers from
    ``scripts[NAME]`` (fill the returned dict)."""
    scripts: dict[str, Script] = {}

    class ScriptedHandler(ProviderHandler):
        name = "scripted"
        Config = ProviderConfig
        options = frozenset()

        def create(self, model: str, config: ProviderConfig, **options: Any) -> FunctionModel:
            return scripts[model].model

    with provider_registry.override({"scripted": ScriptedHandler}):
        yield scripts
