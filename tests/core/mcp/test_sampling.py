"""Sampling: off by default, per-server limits, approval, and the run's model and middleware."""

from __future__ import annotations

import dataclasses
import json

import pytest

from aiops_core import Agent, Middleware
from aiops_core.mcp import SamplingRequest
from aiops_core.messages import SystemMessage, UserMessage
from aiops_core.providers import FunctionModel, TestModel
from aiops_core.providers.base import ModelRequest

pytestmark = pytest.mark.anyio


class Recorder:
    """A model that answers and remembers what it was asked."""

    def __init__(self) -> None:
        self.requests: list[ModelRequest] = []
        self.model = FunctionModel(self.reply, model_name="recorder")

    def reply(self, request: ModelRequest) -> str:
        self.requests.append(request)
        return "core-sw-01 lost its uplink"


async def summarize(pool, text: str = "long log", **extra) -> str:
    result = await pool.call_tool("feat", "summarize", {"text": text, **extra})
    return result.content[0].text


async def test_sampling_is_off_by_default(features):
    recorder = Recorder()
    async with features(sampling_model=recorder.model) as pool:
        caps = json.loads((await pool.call_tool("feat", "capabilities", {})).content[0].text)
        answer = await summarize(pool)
    assert "sampling" not in caps
    assert answer.startswith("refused:") and "Sampling not supported" in answer
    assert recorder.requests == []


async def test_an_enabled_server_gets_the_model_answer_within_the_token_cap(features):
    recorder = Recorder()
    async with features(
        {"sampling": {"enabled": True, "max_tokens": 64}}, sampling_model=recorder.model
    ) as pool:
        answer = json.loads(await summarize(pool, max_tokens=5000))
    assert answer == {"text": "core-sw-01 lost its uplink", "model": "function:recorder"}
    (request,) = recorder.requests
    assert request.settings == {"max_tokens": 64, "temperature": 0.1}
    assert request.messages == [
        SystemMessage(content="Summarize in one line."),
        UserMessage(content="long log"),
    ]


async def test_requests_beyond_the_limit_are_refused(features):
    recorder = Recorder()
    config = {"sampling": {"enabled": True, "max_requests_per_run": 2}}
    async with features(config, sampling_model=recorder.model) as pool:
        answers = [await summarize(pool) for _ in range(3)]
    assert [a.startswith("refused:") for a in answers] == [False, False, True]
    assert "at most 2 requests per run" in answers[2]
    assert len(recorder.requests) == 2


@pytest.mark.parametrize("allowed", [True, False])
async def test_approval_asks_a_person_first(features, allowed):
    recorder = Recorder()
    asked: list[SamplingRequest] = []

    async def person(request: SamplingRequest) -> bool:
        asked.append(request)
        return allowed

    config = {"sampling": {"enabled": True, "approve": True, "max_tokens": 100}}
    async with features(config, sampling_model=recorder.model, sampling_approver=person) as pool:
        answer = await summarize(pool, "show me the BGP table")
    (request,) = asked
    assert (request.server, request.max_tokens) == ("feat", 100)
    assert "user: show me the BGP table" in request.text
    if allowed:
        assert json.loads(answer)["text"] == "core-sw-01 lost its uplink"
    else:
        assert "a person declined the request" in answer
        assert recorder.requests == []


async def test_approval_without_an_approver_refuses(features):
    recorder = Recorder()
    config = {"sampling": {"enabled": True, "approve": True}}
    async with features(config, sampling_model=recorder.model) as pool:
        answer = await summarize(pool)
    assert "nobody can approve here" in answer
    assert recorder.requests == []


async def test_outside_a_run_without_a_model_the_request_is_refused(features):
    async with features({"sampling": {"enabled": True}}) as pool:
        answer = await summarize(pool)
    assert "no model is available outside an agent run" in answer


class Tagging(Middleware):
    """Tags the answers of the run's model calls."""

    async def wrap_model_call(self, request, call_next):
        response = await call_next(request)
        message = response.message.model_copy(
            update={"content": f"[tagged] {response.message.content}"}
        )
        return dataclasses.replace(response, message=message)


async def test_during_a_run_the_runs_model_and_middleware_answer(features):
    """The agent calls the server's tool; the server samples; the run's chain answers it."""
    run_model = Recorder()
    fallback = Recorder()
    async with features({"sampling": {"enabled": True}}, sampling_model=fallback.model) as pool:
        tools = {t.name: t for t in await pool.list_tools()}
        agent_model = TestModel(call_tools=["summarize"])
        # The agent's model decides on the tool call; the sampling goes to the same chain.
        agent = Agent(
            _Combined(agent_model, run_model),
            tools=[pool],
            middleware=[Tagging],
        )
        assert "summarize" in tools
        result = await agent.run("summarize the log")
    sampled = [r for r in run_model.requests if r.messages and r.messages[0].role == "system"]
    assert len(sampled) == 1, "the run's model answered the server's sampling request"
    assert fallback.requests == [], "the pool's fallback model was not used during the run"
    assert sampled[0].context is not None and sampled[0].context.run_id == result.run_id
    tool_text = result.messages[2].text  # the tool result, with the run's middleware tag inside
    assert "[tagged] core-sw-01 lost its uplink" in tool_text


class _Combined:
    """The agent's own turns come from ``agent``; sampling requests (with a system prompt) from
    ``sampler`` (the same model object to the chain)."""

    name = "combined"

    def __init__(self, agent: TestModel, sampler: Recorder) -> None:
        self._agent = agent
        self._sampler = sampler

    async def complete(self, request: ModelRequest):
        if request.messages and request.messages[0].role == "system":
            return await self._sampler.model.complete(request)
        return await self._agent.complete(request)

    def stream(self, request: ModelRequest):
        return self._agent.stream(request)

    async def aclose(self) -> None:
        return None
