"""``model_fallback``: provider errors switch to the next model in the list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec
from aiops_core.agent import TextDelta as AgentTextDelta
from aiops_core.errors import AuthenticationError, ModelNotFoundError, ServerError, UserError
from aiops_core.middleware import resolve_specs
from aiops_core.providers import FunctionModel, ModelRequest

from .conftest import Script

pytestmark = pytest.mark.anyio


def fallback(*models: str, **config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("model_fallback", config={"models": list(models), **config})


async def test_the_next_model_answers_when_the_primary_fails(
    scripted_provider: dict[str, Script],
) -> None:
    scripted_provider["backup"] = Script("from backup")
    primary = Script(ServerError("overloaded", status_code=503))
    result = await Agent(primary.model, middleware=[fallback("scripted:backup")]).run("q")
    assert result.output == "from backup"
    assert any("answered by fallback 'scripted:backup'" in w for w in result.warnings)


async def test_models_are_tried_in_order(scripted_provider: dict[str, Script]) -> None:
    scripted_provider["b1"] = Script(ModelNotFoundError("gone", status_code=404))
    scripted_provider["b2"] = Script("b2 answers")
    primary = Script(AuthenticationError("expired key", status_code=401))
    agent = Agent(primary.model, middleware=[fallback("scripted:b1", "scripted:b2")])
    assert (await agent.run("q")).output == "b2 answers"
    assert scripted_provider["b1"].calls == 1


async def test_the_last_error_is_raised_when_every_model_fails(
    scripted_provider: dict[str, Script],
) -> None:
    scripted_provider["b1"] = Script(ServerError("b1 down", status_code=500))
    agent = Agent(Script(ServerError("primary down")).model, middleware=[fallback("scripted:b1")])
    with pytest.raises(ServerError, match="b1 down"):
        await agent.run("q")


async def test_only_retryable_errors_switch_when_configured(
    scripted_provider: dict[str, Script],
) -> None:
    scripted_provider["b1"] = Script("never")
    agent = Agent(
        Script(AuthenticationError("bad key")).model,
        middleware=[fallback("scripted:b1", on="retryable")],
    )
    with pytest.raises(AuthenticationError):
        await agent.run("q")
    assert scripted_provider["b1"].calls == 0


async def test_streams_fall_back_before_the_first_token(
    scripted_provider: dict[str, Script],
) -> None:
    scripted_provider["backup"] = Script("backup stream")

    async def broken(request: ModelRequest) -> AsyncIterator[str]:
        raise ServerError("down")
        yield ""  # pragma: no cover

    agent = Agent(FunctionModel(stream_function=broken), middleware=[fallback("scripted:backup")])
    text = "".join([e.text async for e in agent.stream("q") if isinstance(e, AgentTextDelta)])
    assert text == "backup stream"


def test_config_errors_name_the_field() -> None:
    with pytest.raises(UserError, match=r"invalid config models: .*Unknown provider 'nope'"):
        resolve_specs([fallback("nope:model")])
