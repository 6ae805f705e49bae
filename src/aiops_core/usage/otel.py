"""``OTelRecorder``: usage records as OpenTelemetry spans and metrics (GenAI conventions).

A run is an ``invoke_agent`` span; each model call a ``chat {model}`` span and each tool call an
``execute_tool {tool}`` span under it, with the attribute names of the OpenTelemetry GenAI
semantic conventions (``gen_ai.operation.name``, ``gen_ai.request.model``,
``gen_ai.usage.input_tokens``, ...). Metrics: ``gen_ai.client.operation.duration``,
``gen_ai.client.token.usage`` and ``gen_ai.client.operation.time_to_first_chunk`` histograms, and
counters of requests, errors, cost and tool calls.

Message bodies (prompts, answers, tool arguments and results) are exported only with
``capture_content=True``. Needs ``pip install 'aiops[otel]'``; nothing of OpenTelemetry is
imported until an ``OTelRecorder`` is built, and an agent without one pays nothing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .._extras import missing_extra
from .recorder import UsageRecorder
from .records import OK

try:
    from opentelemetry import metrics, trace
    from opentelemetry.trace import SpanKind, Status, StatusCode
except ModuleNotFoundError as err:  # pragma: no cover - the otel extra is missing
    raise missing_extra(err, "The OpenTelemetry recorder") from None

if TYPE_CHECKING:
    from datetime import datetime

    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from ..context import RunContext
    from .records import ModelCallRecord, RunRecord, ToolCallRecord

__all__ = ["OTelRecorder"]

_SCOPE = "aiops_core"
_SECONDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
_TOKENS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304]


def _ns(moment: datetime, plus: float = 0.0) -> int:
    return int(moment.timestamp() * 1_000_000_000) + int(plus * 1_000_000_000)


class OTelRecorder(UsageRecorder):
    """Spans and metrics through OpenTelemetry.

    Args:
        tracer_provider / meter_provider: default the global ones (set up by the application,
            or by :meth:`otlp`).
        capture_content: also export message bodies and tool arguments and results.
        agent_name: ``gen_ai.agent.name`` of the run spans.
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        capture_content: bool = False,
        agent_name: str = "aiops",
    ) -> None:
        self.capture_content = capture_content
        self.agent_name = agent_name
        self._tracer = trace.get_tracer(_SCOPE, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, meter_provider=meter_provider)
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            description="GenAI operation duration",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
        self._tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Number of input and output tokens used",
            explicit_bucket_boundaries_advisory=_TOKENS,
        )
        self._first_chunk = meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time to receive the first chunk of a streamed response",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
        self._requests = meter.create_counter(
            "aiops.model.requests", unit="{request}", description="Model calls"
        )
        self._errors = meter.create_counter(
            "aiops.model.errors", unit="{request}", description="Model calls that failed"
        )
        self._cost = meter.create_counter(
            "aiops.model.cost", unit="USD", description="Cost of priced model calls"
        )
        self._tool_calls = meter.create_counter(
            "aiops.tool.calls", unit="{call}", description="Tool calls by tool and outcome"
        )
        self._tool_duration = meter.create_histogram(
            "aiops.tool.duration",
            unit="s",
            description="Tool call duration",
            explicit_bucket_boundaries_advisory=_SECONDS,
        )
        self._runs: dict[str, Span] = {}
        self._owned: tuple[Any, ...] = ()  # the SDK providers :meth:`otlp` made, to shut down

    @classmethod
    def otlp(
        cls,
        endpoint: str | None = None,
        *,
        service_name: str = "aiops",
        capture_content: bool = False,
    ) -> OTelRecorder:
        """A recorder with its own SDK providers exporting over OTLP/HTTP to ``endpoint``
        (default ``$OTEL_EXPORTER_OTLP_ENDPOINT`` or ``http://localhost:4318``)."""
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.metrics import MeterProvider as SDKMeterProvider
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ModuleNotFoundError as err:
            raise missing_extra(err, "Exporting over OTLP") from None
        resource = Resource.create({"service.name": service_name})
        base = endpoint.rstrip("/") if endpoint else None
        spans = OTLPSpanExporter(endpoint=f"{base}/v1/traces" if base else None)
        tracer_provider = SDKTracerProvider(resource=resource)
        tracer_provider.add_span_processor(BatchSpanProcessor(spans))
        points = OTLPMetricExporter(endpoint=f"{base}/v1/metrics" if base else None)
        meter_provider = SDKMeterProvider(
            resource=resource, metric_readers=[PeriodicExportingMetricReader(points)]
        )
        recorder = cls(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            capture_content=capture_content,
        )
        recorder._owned = (tracer_provider, meter_provider)
        return recorder

    def shutdown(self) -> None:
        """Exports what is batched and stops the providers :meth:`otlp` made (the SDK also does
        it at interpreter exit); providers passed in belong to the caller and are left alone."""
        for provider in self._owned:
            provider.shutdown()
        self._owned = ()

    # ------------------------------------------------------------------ runs
    async def run_started(self, ctx: RunContext) -> None:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": self.agent_name,
            "gen_ai.request.model": ctx.model,
        }
        if ctx.thread_id:
            attributes["gen_ai.conversation.id"] = ctx.thread_id
        span = self._tracer.start_span(
            f"invoke_agent {self.agent_name}", kind=SpanKind.INTERNAL, attributes=attributes
        )
        self._runs[ctx.run_id] = span

    async def run_finished(self, record: RunRecord) -> None:
        span = self._runs.pop(record.run_id, None)
        if span is None:
            return
        span.set_attributes(
            {
                "gen_ai.usage.input_tokens": record.usage.input_tokens,
                "gen_ai.usage.output_tokens": record.usage.output_tokens,
                "aiops.run.steps": record.steps,
            }
        )
        if record.cost is not None:
            span.set_attribute("aiops.cost.usd", float(record.cost))
        self._end(span, record.outcome)

    # ------------------------------------------------------------------ calls
    async def model_call(self, record: ModelCallRecord) -> None:
        usage = record.usage
        base = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": record.provider,
            "gen_ai.request.model": record.model,
        }
        attributes: dict[str, Any] = {
            **base,
            "gen_ai.usage.input_tokens": usage.input_tokens,
            "gen_ai.usage.output_tokens": usage.output_tokens,
            "gen_ai.usage.cache_read.input_tokens": usage.cached_tokens,
            "gen_ai.usage.reasoning.output_tokens": usage.reasoning_tokens,
            "gen_ai.request.stream": record.streaming,
        }
        if record.thread_id:
            attributes["gen_ai.conversation.id"] = record.thread_id
        if record.time_to_first_token is not None:
            attributes["gen_ai.response.time_to_first_chunk"] = record.time_to_first_token
        if record.cost is not None:
            attributes["aiops.cost.usd"] = float(record.cost)
        if record.fallback_from:
            attributes["aiops.budget.fallback_from"] = record.fallback_from
        if self.capture_content:
            if record.request is not None:
                attributes["gen_ai.input.messages"] = _messages(record.request.messages)
            if record.response is not None:
                attributes["gen_ai.output.messages"] = _messages([record.response])
        if record.outcome != OK:
            attributes["error.type"] = record.outcome
        span = self._tracer.start_span(
            f"chat {record.model}",
            context=self._parent(record.run_id),
            kind=SpanKind.CLIENT,
            attributes=attributes,
            start_time=_ns(record.started_at),
        )
        self._end(span, record.outcome, _ns(record.started_at, record.latency))

        metric = dict(base)
        if record.outcome != OK:
            metric["error.type"] = record.outcome
            self._errors.add(1, metric)
        self._requests.add(1, metric)
        self._duration.record(record.latency, metric)
        if record.time_to_first_token is not None:
            self._first_chunk.record(record.time_to_first_token, base)
        if record.outcome == OK:
            self._tokens.record(usage.input_tokens, {**base, "gen_ai.token.type": "input"})
            self._tokens.record(usage.output_tokens, {**base, "gen_ai.token.type": "output"})
        if record.cost is not None:
            self._cost.add(float(record.cost), base)

    async def tool_call(self, record: ToolCallRecord) -> None:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": record.tool,
            "gen_ai.tool.call.id": record.call_id,
            "gen_ai.tool.type": "function",
            "aiops.tool.result_chars": record.result_chars,
        }
        if record.server:
            attributes["aiops.mcp.server"] = record.server
        if self.capture_content and record.arguments is not None:
            attributes["gen_ai.tool.call.arguments"] = json.dumps(record.arguments, default=str)
        if record.outcome != OK:
            attributes["error.type"] = record.outcome
        span = self._tracer.start_span(
            f"execute_tool {record.tool}",
            context=self._parent(record.run_id),
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            start_time=_ns(record.started_at),
        )
        self._end(span, record.outcome, _ns(record.started_at, record.latency))
        metric = {"gen_ai.tool.name": record.tool, "aiops.tool.outcome": record.outcome}
        self._tool_calls.add(1, metric)
        self._tool_duration.record(record.latency, {"gen_ai.tool.name": record.tool})

    # ------------------------------------------------------------------
    def _parent(self, run_id: str) -> Any:
        span = self._runs.get(run_id)
        return trace.set_span_in_context(span) if span is not None else None

    @staticmethod
    def _end(span: Span, outcome: str, end_time: int | None = None) -> None:
        if outcome not in (OK, "paused", "tool_error"):
            span.set_attribute("error.type", outcome)
            span.set_status(Status(StatusCode.ERROR, outcome))
        span.end(end_time=end_time)


def _messages(messages: Any) -> str:
    return json.dumps([m.model_dump(mode="json") for m in messages])
