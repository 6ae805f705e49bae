"""Attack 4: probe internal addresses (SSRF) and read what answered.

Before: MCP ``url``/``health_check``, LLM ``base_url`` and middleware Redis URLs accepted any host,
and ``last_error`` reported what answered.

Now: every URL a row holds must be allowed by ``PLUGINS_CONFIG["aiops_nautobot"]["allowed_urls"]``
(decided by scheme, host name and port, never by a DNS lookup; a wildcard never reaches private,
loopback or link-local IP literals or ``localhost``). Refused on save with the setting to change,
and again when used. ``last_error`` is a short reason that echoes nothing the host sent.
"""

from __future__ import annotations

import os
from unittest import mock

from nautobot.extras.models import JobLogEntry

from aiops_nautobot.models import LLMMiddleware, LLMProvider, MCPServer, MiddlewareType
from tests.conftest import REDIS_PORT

from ..engine_fixtures import app_settings, offline_model, operator_settings
from ..test_jobs import run
from .attacker import BANNER, AttackTestCase, CaptureServer, GarbageServer

INTERNAL = [
    "http://10.0.0.5",
    "http://169.254.169.254/latest/meta-data",
    "http://127.0.0.1:6379",
    "http://localhost:8080",
    "http://[::1]:8080",
    "http://0x7f.1:9000",  # 127.0.0.1 in inet_aton's spelling
    "http://2130706433:9000",  # 127.0.0.1 as one number
    "http://[::ffff:127.0.0.1]:80",
    "http://0.0.0.0:8000",
]


@operator_settings(checkpoint_url="memory://")  # the documented defaults
class SSRFAttackTest(AttackTestCase):
    def test_mcp_urls_to_internal_addresses_are_refused(self):
        self.add_permissions("aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver")
        for url in INTERNAL:
            with self.subTest(url):
                response = self.api_post("mcpserver-list", {"name": "probe", "url": url})
                self.assertRefused(response, "url")
                if "valid URL" not in str(response.json()["url"]):
                    self.assertRefused(response, "url", "allowed_urls']['mcp']")
        self.assertFalse(MCPServer.objects.exists())

    @operator_settings(
        checkpoint_url="memory://", allowed_urls={"mcp": ["http://*:*", "https://*"]}
    )
    def test_a_wildcard_reaches_names_but_never_internal_literals(self):
        self.add_permissions("aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver")
        for url in INTERNAL:
            with self.subTest(url):
                response = self.api_post("mcpserver-list", {"name": "probe", "url": url})
                # Odd spellings of 127.0.0.1 already fail Django's URL validation.
                self.assertRefused(response, "url")
        response = self.api_post(
            "mcpserver-list", {"name": "public", "url": "https://mcp.example.com"}
        )
        self.assertHttpStatus(response, 201)

    def test_the_form_refuses_an_internal_url(self):
        self.add_permissions("aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver")
        data = {
            "name": "probe",
            "status": "unhealthy",
            "protocol": "http",
            "url": "http://169.254.169.254",
            "mcp_endpoint": "/mcp",
            "health_check": "/latest/meta-data",
            "server_type": "internal",
            "verify_tls": "on",
            "timeout_seconds": 5,
        }
        response = self.form_post("mcpserver_add", data)
        self.assertFormRefused(response, "allowed_urls")
        self.assertFalse(MCPServer.objects.exists())

    def test_llm_base_urls_to_internal_addresses_are_refused(self):
        provider, _ = LLMProvider.objects.get_or_create(name="openai")
        self.add_permissions("aiops_nautobot.change_llmprovider", "aiops_nautobot.view_llmprovider")
        for url in INTERNAL:
            with self.subTest(url):
                response = self.api_patch(
                    "llmprovider-detail", provider.pk, {"config": {"base_url": url}}
                )
                self.assertRefused(response, "config", "allowed_urls']['llm']")
        provider.refresh_from_db()
        self.assertNotIn("base_url", provider.config)

    def test_ollama_on_loopback_is_the_lab_default_only(self):
        provider, _ = LLMProvider.objects.get_or_create(name="ollama")
        self.add_permissions("aiops_nautobot.change_llmprovider", "aiops_nautobot.view_llmprovider")
        config = {"config": {"base_url": "http://127.0.0.1:11434"}}
        with mock.patch.dict(os.environ, {"AIOPS_ENVIRONMENT": "LAB"}):
            self.assertHttpStatus(self.api_patch("llmprovider-detail", provider.pk, config), 200)
        with mock.patch.dict(os.environ, {"AIOPS_ENVIRONMENT": "PROD"}):
            response = self.api_patch(
                "llmprovider-detail", provider.pk, {"config": {"base_url": "http://[::1]:11434"}}
            )
            self.assertRefused(response, "config", "allowed_urls']['llm']")

    def test_a_host_without_a_scheme_is_refused(self):
        provider, _ = LLMProvider.objects.get_or_create(name="ollama")
        self.add_permissions("aiops_nautobot.change_llmprovider", "aiops_nautobot.view_llmprovider")
        response = self.api_patch(
            "llmprovider-detail", provider.pk, {"config": {"base_url": "10.0.0.5:11434"}}
        )
        self.assertRefused(response, "config", "full URL")

    def test_middleware_redis_urls_to_other_hosts_are_refused(self):
        llm = offline_model()
        cache, _ = MiddlewareType.objects.get_or_create(name="cache")
        self.add_permissions(
            "aiops_nautobot.add_llmmiddleware",
            "aiops_nautobot.view_llmmiddleware",
            "aiops_nautobot.view_llmmodel",
            "aiops_nautobot.view_middlewaretype",
        )
        body = {"llm_model": llm.pk, "middleware_type": cache.pk}
        response = self.api_post(
            "llmmiddleware-list",
            {**body, "config": {"backend": "redis", "url": "redis://10.0.0.7:6379/0"}},
        )
        self.assertRefused(response, "config", "allowed_urls']['redis']")
        self.assertFalse(LLMMiddleware.objects.exists())
        # Nautobot's own Redis is the default.
        own = {"backend": "redis", "url": f"redis://127.0.0.1:{REDIS_PORT}/3"}
        response = self.api_post("llmmiddleware-list", {**body, "config": own})
        self.assertHttpStatus(response, 201)

    def test_a_middleware_row_written_around_validation_stops_the_chat(self):
        llm = offline_model(call_tools=[])
        cache, _ = MiddlewareType.objects.get_or_create(name="cache")
        LLMMiddleware.objects.create(
            llm_model=llm,
            middleware_type=cache,
            config={"backend": "redis", "url": "redis://10.0.0.7:6379/0"},
        )
        self.add_permissions("aiops_nautobot.use_chat_conversation")
        response = self.api_post("chat", {"message": "hi"})
        self.assertHttpStatus(response, 503)
        self.assertIn("allowed_urls']['redis']", response.json()["detail"])

    def test_rows_written_around_validation_are_refused_when_used(self):
        offline_model(call_tools=[])
        self.add_permissions(
            "aiops_nautobot.use_chat_conversation",
            "aiops_nautobot.change_mcpserver",
            "aiops_nautobot.view_mcpserver",
        )
        with CaptureServer(status=200) as internal:
            row = MCPServer.objects.create(name="planted", url=internal.url, status="healthy")
            self.assertHttpStatus(self.api_post("chat", {"message": "hi"}), 200)
            response = self.api_post("mcpserver-health-check", pk=row.pk)
            self.assertEqual(response.json()["status"], "unhealthy")
            self.assertIn("allowed_urls']['mcp']", response.json()["last_error"])
            self.assertEqual(internal.requests, [])


@app_settings(checkpoint_url="memory://", allowed_urls={"mcp": ["http://127.0.0.1:*"]})
class WhatAnsweredIsNeverEchoedTest(AttackTestCase):
    """Even at an allowed address, ``last_error`` says why, not what the host answered."""

    def setUp(self):
        super().setUp()
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")

    def check(self, url: str) -> dict:
        row = MCPServer.objects.create(name="probe", url=url)
        response = self.api_post("mcpserver-health-check", pk=row.pk)
        self.assertHttpStatus(response, 200)
        self.assertNotIn(BANNER, response.content.decode())
        row.refresh_from_db()
        self.assertNotIn(BANNER, row.last_error)
        return response.json()

    def test_an_http_error_is_reported_by_its_status_only(self):
        with CaptureServer(status=500) as host:
            body = self.check(host.url)
        self.assertEqual(body["last_error"], "GET /health answered HTTP 500")

    def test_a_non_http_answer_is_reported_by_kind_only(self):
        with GarbageServer() as host:
            body = self.check(host.url)
        self.assertEqual(body["last_error"], "the server broke the HTTP protocol")

    def test_the_scheduled_job_logs_no_answer_either(self):
        with GarbageServer() as host:
            MCPServer.objects.create(name="probe", url=host.url, status="healthy")
            result = run("MCPServerHealthCheck", rechecks=0, recheck_delay_seconds=0)
        logs = " ".join(
            JobLogEntry.objects.filter(job_result=result).values_list("message", flat=True)
        )
        self.assertIn("probe: unhealthy", logs)
        self.assertNotIn(BANNER, logs)
        self.assertNotIn(BANNER, str(result.result))
