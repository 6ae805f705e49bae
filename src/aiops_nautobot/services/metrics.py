"""The app's Prometheus metrics, exported by Nautobot's own ``/metrics`` endpoint.

Counters and histograms live in ``prometheus_client``'s default registry, which Nautobot's
metrics view exports (with ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client aggregates the
worker processes). MCP server health is a gauge computed at scrape time by
:func:`mcp_health_metrics`, registered in the app config's ``metrics``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from aiops_core.usage import UsageRecorder

if TYPE_CHECKING:
    from aiops_core.usage import ModelCallRecord, ToolCallRecord

__all__ = ["PrometheusRecorder", "mcp_health_metrics", "observed_chat"]

_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)

CHAT_REQUESTS = Counter(
    "aiops_chat_requests", "Chat API requests by view and HTTP status", ["view", "status"]
)
CHAT_LATENCY = Histogram(
    "aiops_chat_request_seconds",
    "Chat API request latency (to the first byte for event streams)",
    ["view"],
    buckets=_SECONDS,
)
CHAT_ERRORS = Counter("aiops_chat_errors", "Chat API errors by HTTP status", ["view", "status"])
MODEL_CALLS = Counter("aiops_model_calls", "Model calls by model and outcome", ["model", "outcome"])
MODEL_LATENCY = Histogram(
    "aiops_model_call_seconds", "Model call latency", ["model"], buckets=_SECONDS
)
TOKENS = Counter("aiops_model_tokens", "Tokens by model and type", ["model", "type"])
COST = Counter("aiops_model_cost_usd", "Cost of priced model calls (USD)", ["model"])
UNPRICED = Counter("aiops_model_unpriced_calls", "Model calls without a known price", ["model"])
TOOL_CALLS = Counter(
    "aiops_tool_calls", "Tool calls by tool, server and outcome", ["tool", "server", "outcome"]
)
TOOL_LATENCY = Histogram("aiops_tool_call_seconds", "Tool call latency", ["tool"], buckets=_SECONDS)


class PrometheusRecorder(UsageRecorder):
    """Counts model and tool calls, tokens and cost into the Prometheus metrics."""

    async def model_call(self, record: ModelCallRecord) -> None:
        model, usage = record.model, record.usage
        MODEL_CALLS.labels(model, record.outcome).inc()
        MODEL_LATENCY.labels(model).observe(record.latency)
        TOKENS.labels(model, "input").inc(usage.input_tokens)
        TOKENS.labels(model, "output").inc(usage.output_tokens)
        TOKENS.labels(model, "cached").inc(usage.cached_tokens)
        if record.cost is None:
            UNPRICED.labels(model).inc()
        else:
            COST.labels(model).inc(float(record.cost))

    async def tool_call(self, record: ToolCallRecord) -> None:
        TOOL_CALLS.labels(record.tool, record.server or "", record.outcome).inc()
        TOOL_LATENCY.labels(record.tool).observe(record.latency)


def observed_chat(view: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a chat API handler: count the request by status, time it, count errors."""

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            response = handler(*args, **kwargs)
            status = str(getattr(response, "status_code", 200))
            CHAT_REQUESTS.labels(view, status).inc()
            CHAT_LATENCY.labels(view).observe(time.perf_counter() - start)
            if not status.startswith("2"):
                CHAT_ERRORS.labels(view, status).inc()
            return response

        return wrapper

    return decorate


def mcp_health_metrics() -> Iterator[GaugeMetricFamily]:
    """``aiops_mcp_server_healthy{server}``: 1 healthy, 0 not (read at scrape time)."""
    from ..choices import MCPServerStatusChoices
    from ..models import MCPServer

    gauge = GaugeMetricFamily(
        "aiops_mcp_server_healthy", "MCP server health (1 healthy, 0 not)", labels=["server"]
    )
    for name, state in MCPServer.objects.values_list("name", "status"):
        gauge.add_metric([name], 1.0 if state == MCPServerStatusChoices.HEALTHY else 0.0)
    yield gauge
