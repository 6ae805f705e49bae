"""``aiops_core.testing``: blocking real model requests, and ``Agent.override`` in tests."""

from __future__ import annotations

import threading

import anyio
import pytest

from aiops_core import Agent, FunctionModel, RunContext, TestModel, tool
from aiops_core.errors import ModelRequestsBlocked, UserError
from aiops_core.providers import ModelRequest, get_chat_model
from aiops_core.testing import (
    BLOCK_ENV,
    allow_model_requests,
    block_model_requests,
    model_requests_blocked,
)
from tests.core.providers.conftest import PROVIDERS, model_spec
from tests.servers.llm import LLMServer, Reply


@pytest.fixture
def server():
    with LLMServer([Reply(text="from the server")]) as srv:
        yield srv


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_blocked_requests_fail_before_reaching_the_server(server, provider):
    spec, options = model_spec(provider, server.url)
    agent = Agent(get_chat_model(spec, **options))
    with block_model_requests():
        with pytest.raises(ModelRequestsBlocked) as caught:
            await agent.run("hi")
        with pytest.raises(ModelRequestsBlocked):
            [e async for e in agent.stream("hi")]
    message = str(caught.value)
    assert repr(agent.model.name) in message
    assert "agent.override(model=TestModel())" in message and BLOCK_ENV in message
    assert isinstance(caught.value, UserError)
    assert server.requests == []
    await agent.aclose()


@pytest.mark.anyio
async def test_the_block_is_lifted_after_the_block_and_by_allow(server):
    spec, options = model_spec("openai", server.url)
    agent = Agent(get_chat_model(spec, **options))
    with block_model_requests():
        with allow_model_requests():
            assert (await agent.run("hi")).output == "from the server"
        assert model_requests_blocked()
    assert not model_requests_blocked()
    assert (await agent.run("hi")).output == "from the server"
    assert len(server.requests) == 2
    await agent.aclose()


def test_the_environment_variable_blocks_every_thread(monkeypatch, server):
    spec, options = model_spec("openai", server.url)
    agent = Agent(get_chat_model(spec, **options))
    monkeypatch.setenv(BLOCK_ENV, "1")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            list(agent.stream_sync("hi"))  # its own event loop on another thread
        except BaseException as err:
            errors.append(err)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(10)
    assert isinstance(errors[0], ModelRequestsBlocked)
    with allow_model_requests():
        assert agent.run_sync("hi").output == "from the server"
    monkeypatch.setenv(BLOCK_ENV, "0")
    assert not model_requests_blocked()


def test_offline_models_answer_while_requests_are_blocked():
    with block_model_requests():
        assert Agent("test").run_sync("hi").output == "(test model) You said: hi"
        assert Agent(FunctionModel(lambda r: "fn")).run_sync("hi").output == "fn"


# ---------------------------------------------------------------- Agent.override


@tool
def site(ctx: RunContext[str]) -> str:
    """The run's site."""
    return f"site {ctx.deps}"


def production_code(agent: Agent) -> str:
    """Code under test: it picks its own model and deps."""
    return str(agent.run_sync("which site?", model="openai:gpt-4o", deps="prod").output)


def test_override_replaces_model_tools_and_deps_of_code_under_test(server):
    spec, options = model_spec("openai", server.url)
    agent = Agent(get_chat_model(spec, **options))
    with block_model_requests(), agent.override(model=TestModel(), tools=[site], deps="lab"):
        assert production_code(agent) == "(test model) I called 1 tool(s):\n- site (ok): site lab"
    assert agent.model.name == "openai:gpt-4o-mini" and agent._tools == {}
    assert server.requests == []


@pytest.mark.anyio
async def test_override_nests_and_is_scoped_to_the_task():
    agent = Agent(TestModel(answer="agent"))
    inner_seen: list[str] = []

    async def other_task() -> None:
        inner_seen.append((await agent.run("x")).output)

    with agent.override(model=TestModel(answer="outer")):
        assert (await agent.run("x", model=TestModel(answer="run"))).output == "outer"
        with agent.override(model_settings={"temperature": 0}):
            assert (await agent.run("x")).output == "outer"  # the outer override still holds
        async with anyio.create_task_group() as group:
            group.start_soon(other_task)  # a task started inside sees the override
    assert inner_seen == ["outer"]
    assert (await agent.run("x")).output == "agent"


@pytest.mark.anyio
async def test_override_of_output_type_and_deps_type_check():
    from pydantic import BaseModel

    class Out(BaseModel):
        n: int

    seen: list[ModelRequest] = []

    def reply(request: ModelRequest) -> str:
        seen.append(request)
        return '{"n": 3}'

    agent = Agent(FunctionModel(reply), deps_type=int)
    with agent.override(output_type=Out, deps=7):
        result = await agent.run("x")
    assert result.output == Out(n=3) and seen[0].output_schema is not None
    with agent.override(deps="seven"), pytest.raises(UserError, match="deps must be a int"):
        await agent.run("x", deps=1)
