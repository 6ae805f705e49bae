"""The OpenTelemetry recorder: GenAI-convention spans and metrics, checked with in-memory exporters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from aiops_core import Agent, tool
from aiops_core.catalog import ModelCatalog
from aiops_core.errors import ServerError
from aiops_core.providers import get_chat_model
from aiops_core.usage import MemoryRecorder, MultiRecorder
from aiops_core.usage.otel import OTelRecorder
from tests.core.providers.conftest import model_spec
from tests.servers.llm import Fail, LLMServer, Reply

pytestmark = pytest.mark.anyio


@tool(metadata={"server": "inventory"})
async def ping(host: str) -> str:
    """Ping a host."""
    return f"{host} is up"


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def recorder(self, **options) -> OTelRecorder:  # type: ignore[no-untyped-def]
        return OTelRecorder(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **options
        )

    def metrics(self) -> dict[str, list]:
        data = self.reader.get_metrics_data()
        out: dict[str, list] = {}
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    out[metric.name] = list(metric.data.data_points)
        return out


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    t = Telemetry()
    yield t
    t.tracer_provider.shutdown()
    t.meter_provider.shutdown()


def openai_model(server: LLMServer):  # type: ignore[no-untyped-def]
    spec, options = model_spec("openai", server.url)
    return get_chat_model(spec, **options)


async def test_spans_follow_the_genai_conventions(server: LLMServer, telemetry: Telemetry) -> None:
    model = openai_model(server)
    server.script(
        Reply(
            tool_calls=[("ping", {"host": "sw1"})],
            input_tokens=100,
            output_tokens=10,
            cached_tokens=40,
        ),
        Reply(text="sw1 is up", input_tokens=150, output_tokens=5),
    )
    catalog = ModelCatalog({model.name: {"input_price": 1, "output_price": 2}})
    agent = Agent(model, tools=[ping], recorder=telemetry.recorder(), catalog=catalog)
    await agent.run("is sw1 up?", thread_id=None)
    await model.aclose()

    spans = {s.name: s for s in telemetry.spans.get_finished_spans()}
    assert set(spans) == {"invoke_agent aiops", f"chat {model.name}", "execute_tool ping"}
    run, tool_span = spans["invoke_agent aiops"], spans["execute_tool ping"]
    chats = [s for s in telemetry.spans.get_finished_spans() if s.name.startswith("chat ")]
    assert len(chats) == 2
    first = chats[0].attributes
    assert first["gen_ai.operation.name"] == "chat"
    assert first["gen_ai.provider.name"] == "openai"
    assert first["gen_ai.request.model"] == model.name
    assert (first["gen_ai.usage.input_tokens"], first["gen_ai.usage.output_tokens"]) == (100, 10)
    assert first["gen_ai.usage.cache_read.input_tokens"] == 40
    assert "gen_ai.input.messages" not in first  # bodies only when asked for
    assert tool_span.attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool_span.attributes["gen_ai.tool.name"] == "ping"
    assert tool_span.attributes["aiops.mcp.server"] == "inventory"
    assert "gen_ai.tool.call.arguments" not in tool_span.attributes
    assert run.attributes["gen_ai.operation.name"] == "invoke_agent"
    for child in (*chats, tool_span):
        assert child.parent is not None and child.parent.span_id == run.context.span_id
        assert child.context.trace_id == run.context.trace_id
        assert run.start_time <= child.start_time <= child.end_time <= run.end_time

    points = telemetry.metrics()
    (requests,) = points["aiops.model.requests"]
    assert requests.value == 2
    tokens = {p.attributes["gen_ai.token.type"]: p.sum for p in points["gen_ai.client.token.usage"]}
    assert tokens == {"input": 250, "output": 15}
    assert points["gen_ai.client.operation.duration"][0].count == 2
    cost = sum(p.value for p in points["aiops.model.cost"])
    expected = (60 * 1 + 40 * 1 + 10 * 2 + 150 * 1 + 5 * 2) / Decimal(1_000_000)
    assert cost == pytest.approx(float(expected))
    assert points["aiops.tool.calls"][0].attributes["aiops.tool.outcome"] == "ok"


async def test_message_bodies_only_when_enabled(server: LLMServer, telemetry: Telemetry) -> None:
    model = openai_model(server)
    server.script(Reply(tool_calls=[("ping", {"host": "sw1"})]), Reply(text="secret answer"))
    agent = Agent(model, tools=[ping], recorder=telemetry.recorder(capture_content=True))
    [e async for e in agent.stream("is sw1 up?")]
    await model.aclose()
    spans = telemetry.spans.get_finished_spans()
    chat = [s for s in spans if s.name.startswith("chat ")][-1]
    assert json.loads(chat.attributes["gen_ai.output.messages"])[0]["content"] == "secret answer"
    assert "is sw1 up?" in chat.attributes["gen_ai.input.messages"]
    assert chat.attributes["gen_ai.request.stream"] is True
    assert chat.attributes["gen_ai.response.time_to_first_chunk"] >= 0
    tool_span = next(s for s in spans if s.name == "execute_tool ping")
    assert json.loads(tool_span.attributes["gen_ai.tool.call.arguments"]) == {"host": "sw1"}
    assert telemetry.metrics()["gen_ai.client.operation.time_to_first_chunk"][0].count == 2


async def test_errors_are_marked(server: LLMServer, telemetry: Telemetry) -> None:
    model = openai_model(server)
    server.script(Fail(500, "boom"))
    memory = MemoryRecorder()
    agent = Agent(model, recorder=MultiRecorder([memory, telemetry.recorder()]))
    with pytest.raises(ServerError):
        await agent.run("hi")
    await model.aclose()
    spans = {s.name.split()[0]: s for s in telemetry.spans.get_finished_spans()}
    assert spans["chat"].status.status_code is StatusCode.ERROR
    assert spans["chat"].attributes["error.type"] == "ServerError"
    assert spans["invoke_agent"].attributes["error.type"] == "ServerError"
    (errors,) = telemetry.metrics()["aiops.model.errors"]
    assert (errors.value, errors.attributes["error.type"]) == (1, "ServerError")
    assert memory.model_calls[0].outcome == "ServerError"
