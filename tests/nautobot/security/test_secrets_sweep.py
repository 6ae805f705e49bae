"""Secrets seeded into every configuration, then one sweep of everything the app shows or keeps.

The provider key (a Secret on the model) and the MCP server's headers (a Secret holding the
bearer token the server requires) are used for real: a chat turn goes through the fake OpenAI
wire with the key and calls the MCP server's tool with the header; a health check and a failing
provider run too. Afterwards neither value appears in the API (every AI Ops list and detail),
the UI pages, the change log, the stored thread, the Prometheus metrics, the OpenTelemetry spans
(with message bodies on) or the log records of the run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse
from nautobot.extras.models import ObjectChange
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY, generate_latest

from aiops_nautobot.models import LLMModel, LLMProvider, MCPServer, MCPTool
from tests.mcp_servers.support import HttpServer
from tests.servers.llm import LLMServer, Reply

from ..engine_fixtures import app_settings, load_thread
from ..observability.test_telemetry import _global_provider
from .attacker import AttackTransactionTestCase, env_secret

KEY = "sk-sweep-provider-key-5b1f0e"
BEARER = "sweep-mcp-bearer-9c2e77"
SECRETS = (KEY, BEARER)
ENV = {
    "AIOPS_SWEEP_KEY": KEY,
    "AIOPS_SWEEP_HEADERS": json.dumps({"Authorization": f"Bearer {BEARER}"}),
}
MODELS = (
    "llmprovider",
    "llmmodel",
    "systemprompt",
    "middlewaretype",
    "llmmiddleware",
    "mcpserver",
    "mcptool",
    "conversation",
)


class Logs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(message)s").format(record))


@app_settings(checkpoint_url="memory://", opentelemetry={"enabled": True, "capture_content": True})
class SecretsSweepTest(AttackTransactionTestCase):
    def setUp(self):
        super().setUp()
        self.user.is_superuser = True  # the sweep reads everything an admin can
        self.user.save()
        self.env = mock.patch.dict(os.environ, ENV)
        self.env.start()
        self.addCleanup(self.env.stop)
        self.llm = LLMServer().start()
        self.addCleanup(self.llm.stop)
        self.mcp = HttpServer(token=BEARER)
        self.mcp.start(timeout=60)
        self.addCleanup(self.mcp.stop)
        provider, _ = LLMProvider.objects.get_or_create(name="openai")
        provider.config = {"base_url": f"{self.llm.url}/v1", "max_retries": 0}
        provider.save()
        LLMModel.objects.filter(is_default=True).update(is_default=False)
        self.model = LLMModel.objects.create(
            provider=provider,
            name="gpt-4o-mini",
            is_default=True,
            api_key_secret=env_secret("sweep-key", "AIOPS_SWEEP_KEY"),
        )
        self.server = MCPServer.objects.create(
            name="sweep-tools",
            status="healthy",
            protocol="http",
            url=self.mcp.url,
            headers_secret=env_secret("sweep-headers", "AIOPS_SWEEP_HEADERS"),
        )
        MCPTool.objects.create(server=self.server, name="echo", access="read_only")
        self.spans = InMemorySpanExporter()
        _global_provider().add_span_processor(SimpleSpanProcessor(self.spans))
        self.logs = Logs()
        root = logging.getLogger()
        self.addCleanup(root.removeHandler, self.logs)
        self.addCleanup(root.setLevel, root.level)
        root.addHandler(self.logs)
        root.setLevel(logging.DEBUG)

    def seen(self) -> dict[str, str]:
        """Everything the app shows or keeps, by where it was read."""
        out: dict[str, str] = {}
        for model in MODELS:
            response = self.client.get(
                reverse(f"plugins-api:aiops_nautobot-api:{model}-list") + "?depth=1", **self.header
            )
            out[f"api {model}"] = response.content.decode()
            for row in response.json()["results"]:
                detail = self.client.get(row["url"] + "?depth=1", **self.header)
                out[f"api {model} {row['id']}"] = detail.content.decode()
            with contextlib.suppress(NoReverseMatch):  # every model has a list page today
                page = reverse(f"plugins:aiops_nautobot:{model}_list")
                out[f"ui {model}"] = self.ui.get(page).content.decode()
        for view in ("llmmodel", "mcpserver"):
            row = self.model if view == "llmmodel" else self.server
            url = reverse(f"plugins:aiops_nautobot:{view}", kwargs={"pk": row.pk})
            out[f"ui {view} detail"] = self.ui.get(url).content.decode()
        app = ContentType.objects.filter(app_label="aiops_nautobot")
        out["change log"] = json.dumps(
            [
                [c.object_data, c.object_data_v2, c.object_repr]
                for c in ObjectChange.objects.filter(changed_object_type__in=app)
            ],
            default=str,
        )
        out["metrics"] = generate_latest(REGISTRY).decode()
        out["spans"] = json.dumps(
            [dict(s.attributes or {}) for s in self.spans.get_finished_spans()], default=str
        )
        out["logs"] = "\n".join(self.logs.lines)
        return out

    def test_no_secret_anywhere_after_real_use(self):
        self.llm.script(Reply(tool_calls=[("echo", {"text": "ping"})]), Reply(text="pong"))
        chat = self.api_post("chat", {"message": "echo ping"})
        self.assertHttpStatus(chat, 200)
        data = chat.json()
        [call] = data["tool_calls"]
        self.assertIn("ping", json.dumps(call.get("result")))  # the header reached the server
        sent = [r.headers.get("authorization", "") for r in self.llm.requests]
        self.assertIn(f"Bearer {KEY}", sent)  # the key was used, on the provider's wire only
        health = self.api_post("mcpserver-health-check", pk=self.server.pk)
        self.assertEqual(health.json()["status"], "healthy")
        self.model.config = {"base_url": "http://127.0.0.1:9/v1"}  # nothing listens: 502
        self.model.save()
        failed = self.api_post("chat", {"message": "again"})
        self.assertHttpStatus(failed, 502)
        stored = load_thread(data["thread_id"])
        seen = {
            **self.seen(),
            "thread": repr(stored)
            + json.dumps([m.model_dump(mode="json") for m in stored.messages]),
            "answers": chat.content.decode() + failed.content.decode() + health.content.decode(),
        }
        self.assertIn("echo ping", seen["spans"])  # bodies were exported: the sweep looks at them
        self.assertTrue(seen["logs"])
        for where, text in seen.items():
            for secret in SECRETS:
                self.assertNotIn(secret, text, f"{secret!r} shown in {where}")
