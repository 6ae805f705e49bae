"""``OTelRecorder.otlp()`` against a real OTLP/HTTP receiver on 127.0.0.1: the SDK's exporters
send protobuf over HTTP, the receiver decodes it with the OTLP protobuf definitions, and the
spans and metrics arrive with the GenAI attribute names and without the provider's key."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from aiops_core import Agent
from aiops_core.usage.otel import OTelRecorder
from tests.core.providers.conftest import model_spec
from tests.servers.llm import LLMServer, Reply

from .test_otel import openai_model, ping

pytestmark = pytest.mark.anyio


class OTLPReceiver:
    """OTLP/HTTP (protobuf) on a free port: ``/v1/traces`` and ``/v1/metrics``."""

    def __init__(self) -> None:
        self.traces: list[ExportTraceServiceRequest] = []
        self.metrics: list[ExportMetricsServiceRequest] = []
        self.raw: list[bytes] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.raw.append(body)
                answer: Any
                if self.path == "/v1/traces":
                    receiver.traces.append(ExportTraceServiceRequest.FromString(body))
                    answer = ExportTraceServiceResponse()
                elif self.path == "/v1/metrics":
                    receiver.metrics.append(ExportMetricsServiceRequest.FromString(body))
                    answer = ExportMetricsServiceResponse()
                else:
                    self.send_error(404)
                    return
                data = answer.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OTLPReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    with OTLPReceiver() as r:
        yield r


def _attributes(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kv in items:
        kind = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, kind) if kind else None
    return out


async def test_spans_and_metrics_reach_a_real_otlp_receiver(
    server: LLMServer, receiver: OTLPReceiver
) -> None:
    recorder = OTelRecorder.otlp(receiver.url, service_name="aiops-otlp-test")
    model = openai_model(server)
    server.script(
        Reply(tool_calls=[("ping", {"host": "sw1"})], input_tokens=100, output_tokens=10),
        Reply(text="sw1 is up", input_tokens=150, output_tokens=5),
    )
    agent = Agent(model, tools=[ping], recorder=recorder)
    await agent.run("is sw1 up?", thread_id=None)
    await model.aclose()
    recorder.shutdown()  # flushes the batch span processor and the periodic metric reader

    spans = {}
    for request in receiver.traces:
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            assert resource["service.name"] == "aiops-otlp-test"
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.setdefault(span.name, []).append(_attributes(span.attributes))
    assert set(spans) == {"invoke_agent aiops", f"chat {model.name}", "execute_tool ping"}
    chats = spans[f"chat {model.name}"]
    assert [c["gen_ai.operation.name"] for c in chats] == ["chat", "chat"]
    assert sorted(c["gen_ai.usage.input_tokens"] for c in chats) == [100, 150]
    assert all(c["gen_ai.provider.name"] == "openai" for c in chats)
    assert spans["execute_tool ping"][0]["gen_ai.tool.name"] == "ping"

    names = {
        metric.name
        for request in receiver.metrics
        for resource_metrics in request.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
    }
    assert {
        "gen_ai.client.operation.duration",
        "gen_ai.client.token.usage",
        "aiops.model.requests",
        "aiops.tool.calls",
    } <= names
    key = model_spec("openai", server.url)[1].get("api_key")
    assert key and not any(key.encode() in body for body in receiver.raw)
    assert not any(b"is sw1 up?" in body for body in receiver.raw)  # no bodies unless asked


async def test_shutdown_leaves_providers_it_was_given_alone() -> None:
    from opentelemetry.sdk.trace import TracerProvider

    provider = TracerProvider()
    recorder = OTelRecorder(tracer_provider=provider)
    recorder.shutdown()
    assert provider.get_tracer("still").start_span("alive").is_recording()
    provider.shutdown()
