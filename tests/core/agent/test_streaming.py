"""Sync streams, text-only streams and structured output streamed as partial objects."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import anyio
import pytest
from pydantic import BaseModel

from aiops_core import Agent, FunctionModel, TestModel
from aiops_core.agent import (
    FinalResult,
    PartialOutput,
    RunError,
    TextDelta,
    ToolCallFinished,
    ToolCallStarted,
)
from aiops_core.errors import OutputValidationError
from aiops_core.examples import inventory_tools
from aiops_core.providers import ModelRequest


def chunks(*parts: str) -> FunctionModel:
    async def stream(request: ModelRequest) -> AsyncIterator[str]:
        for part in parts:
            yield part

    return FunctionModel(lambda request: "".join(parts), stream_function=stream)


def test_stream_sync_yields_the_same_events_as_stream():
    agent = Agent("test", tools=inventory_tools())
    sync_kinds = [type(e).__name__ for e in agent.stream_sync("anything down?")]

    async def collect() -> list[str]:
        return [type(e).__name__ async for e in agent.stream("anything down?")]

    assert sync_kinds == anyio.run(collect)
    assert sync_kinds[-1] == "FinalResult"
    assert {"ToolCallStarted", "ToolCallFinished", "TextDelta"} <= set(sync_kinds)


def test_stream_sync_raises_the_run_error_after_the_error_event():
    seen: list[object] = []
    agent = Agent("test", tools=inventory_tools(), max_steps=1)
    with pytest.raises(Exception, match="made 1 model calls") as caught:
        for event in agent.stream_sync("anything down?"):
            seen.append(event)
    assert isinstance(seen[-1], RunError) and seen[-1].error is caught.value


def test_breaking_out_of_stream_sync_cancels_the_run():
    cancelled = threading.Event()

    async def stream(request: ModelRequest) -> AsyncIterator[str]:
        try:
            yield "first"
            await anyio.sleep(30)
            yield "never"
        except anyio.get_cancelled_exc_class():
            cancelled.set()
            raise

    agent = Agent(FunctionModel(lambda r: "x", stream_function=stream))
    for event in agent.stream_sync("hi"):
        assert event == TextDelta("first")
        break
    assert cancelled.wait(5)


@pytest.mark.anyio
async def test_stream_sync_works_inside_a_running_event_loop():
    # run_sync refuses a running loop; the sync stream runs on its own loop in a helper thread
    events = list(Agent("test").stream_sync("hi"))
    assert isinstance(events[-1], FinalResult)


@pytest.mark.anyio
async def test_stream_text_yields_only_the_answer_text():
    agent = Agent(chunks("core-sw-01 ", "is ", "up"))
    assert [t async for t in agent.stream_text("status?")] == ["core-sw-01 ", "is ", "up"]
    assert list(agent.stream_text_sync("status?")) == ["core-sw-01 ", "is ", "up"]


@pytest.mark.anyio
async def test_stream_text_passes_run_arguments():
    agent = Agent(TestModel(answer="base"))
    text = "".join([t async for t in agent.stream_text("x", model=TestModel(answer="other"))])
    assert text == "other"


class Verdict(BaseModel):
    device: str
    healthy: bool = False
    reasons: list[str] = []


@pytest.mark.anyio
async def test_structured_output_streams_validated_partial_objects():
    agent = Agent(
        chunks(
            '{"device": "core-', 'sw-01", "heal', 'thy": true, "reasons": ["fan', ' ok", "psu ok"]}'
        ),
        output_type=Verdict,
    )
    events = [e async for e in agent.stream("healthy?")]
    partials = [e.output for e in events if isinstance(e, PartialOutput)]
    assert partials == [
        Verdict(device="core-"),
        Verdict(device="core-sw-01"),
        Verdict(device="core-sw-01", healthy=True, reasons=["fan"]),
        Verdict(device="core-sw-01", healthy=True, reasons=["fan ok", "psu ok"]),
    ]
    assert all(isinstance(p, Verdict) for p in partials)
    final = events[-1]
    assert isinstance(final, FinalResult) and final.result.output == partials[-1]
    # each partial comes right after the text delta that completed it
    kinds = [type(e).__name__ for e in events]
    assert kinds[:3] == ["TextDelta", "PartialOutput", "TextDelta"]


@pytest.mark.anyio
async def test_no_partial_output_before_required_fields_nor_without_output_type():
    agent = Agent(chunks('{"healthy": true, ', '"device": "r1"}'), output_type=Verdict)
    partials = [e.output async for e in agent.stream("x") if isinstance(e, PartialOutput)]
    assert partials == [Verdict(device="r1", healthy=True)]

    plain = Agent(chunks('{"device": "r1"}'))
    assert not [e async for e in plain.stream("x") if isinstance(e, PartialOutput)]


@pytest.mark.anyio
async def test_partial_outputs_do_not_leak_between_steps_and_bad_output_still_fails():
    agent = Agent(chunks('{"device": 5', "}"), output_type=Verdict)
    events: list[object] = []
    with pytest.raises(OutputValidationError):
        async for event in agent.stream("x"):
            events.append(event)
    assert not [e for e in events if isinstance(e, PartialOutput)]
    assert not [e for e in events if isinstance(e, (ToolCallStarted, ToolCallFinished))]
