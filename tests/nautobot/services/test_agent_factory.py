"""Rows → agent plan: model, secrets, prompt, middleware order, MCP servers."""

from __future__ import annotations

import os
from unittest import mock

from django.contrib.auth import get_user_model
from nautobot.apps.testing import TestCase
from nautobot.extras.models import Secret

from aiops_nautobot.models import LLMMiddleware, MCPServer, MiddlewareType, SystemPrompt
from aiops_nautobot.services.agent_factory import plan_agent
from aiops_nautobot.services.errors import NotConfiguredError

from ..engine_fixtures import app_settings, memory_store, offline_model, time_server


def env_secret(name: str, variable: str) -> Secret:
    return Secret.objects.create(
        name=name, provider="environment-variable", parameters={"variable": variable}
    )


@memory_store
class PlanAgentTest(TestCase):
    def setUp(self):
        super().setUp()
        self.user = get_user_model().objects.create_user(username="noc-operator")

    def test_model_options_and_secret(self):
        model = offline_model(answer="hi")
        model.api_key_secret = env_secret("llm-key", "AIOPS_TEST_LLM_KEY")
        model.save()
        with mock.patch.dict(os.environ, {"AIOPS_TEST_LLM_KEY": "sk-very-secret"}):
            plan = plan_agent(self.user)
        self.assertEqual(plan.model.spec, "test:assistant")
        self.assertEqual(plan.model.options["answer"], "hi")
        self.assertEqual(plan.model.options["api_key"], "sk-very-secret")
        self.assertNotIn("temperature", plan.model.options)  # the test handler has no such key
        self.assertNotIn("sk-very-secret", repr(plan))
        self.assertEqual(plan.user_key, str(self.user.pk))

    def test_a_missing_secret_value_is_a_configuration_error(self):
        model = offline_model()
        model.api_key_secret = env_secret("llm-key", "AIOPS_TEST_UNSET_VARIABLE")
        model.save()
        os.environ.pop("AIOPS_TEST_UNSET_VARIABLE", None)
        with self.assertRaisesRegex(NotConfiguredError, "llm-key"):
            plan_agent(self.user)

    def test_a_disabled_provider_is_refused(self):
        model = offline_model()
        model.provider.enabled = False
        model.provider.save()
        with self.assertRaisesRegex(NotConfiguredError, "disabled"):
            plan_agent(self.user)

    def test_prompt_placeholders_are_rendered_and_other_braces_kept(self):
        prompt = SystemPrompt.objects.create(
            name="ops",
            text="Hello {user} on {model_name} via {provider} in {environment}. "
            'Answer as {"status": "ok"} and keep {{ jinja }} and {{user}} and {unknown}.',
        )
        model = offline_model()
        model.system_prompt = prompt
        model.save()
        text = plan_agent(self.user).system_prompt
        self.assertTrue(text.startswith("Hello noc-operator on assistant via test in LAB."))
        self.assertIn('{"status": "ok"}', text)
        self.assertIn("{{ jinja }} and {{user}} and {unknown}", text)

    def test_a_draft_prompt_is_not_used(self):
        model = offline_model()
        model.system_prompt = SystemPrompt.objects.create(name="wip", text="DRAFT", status="draft")
        model.save()
        self.assertNotIn("DRAFT", plan_agent(self.user).system_prompt)

    def test_middleware_order_priority_then_name_active_only(self):
        model = offline_model()
        for name, priority, active, critical in [
            ("timeout", 50, True, True),
            ("logging", 10, True, False),
            ("retry", 50, True, False),
            ("cache", 5, False, False),
        ]:
            kind, _ = MiddlewareType.objects.get_or_create(name=name)
            LLMMiddleware.objects.create(
                llm_model=model,
                middleware_type=kind,
                priority=priority,
                is_active=active,
                is_critical=critical,
            )
        specs = plan_agent(self.user).middleware
        self.assertEqual(
            [(s.type, s.priority) for s in specs],
            [
                ("logging", 10),
                ("retry", 50),
                ("timeout", 50),
            ],
        )
        self.assertTrue(specs[2].critical)

    @app_settings(
        checkpoint_url="memory://",
        allowed_urls={"mcp": ["https://mcp.internal.example", "https://mcp.example.com"]},
        token_forwarding_prefixes=["https://mcp.internal.example/mcp"],
    )
    def test_only_healthy_servers_and_token_forwarding_rules(self):
        offline_model()
        time_server(status="healthy")
        time_server(status="unhealthy", name="sick")
        time_server(status="vulnerable", name="killed")
        headers = env_secret("mcp-headers", "AIOPS_TEST_MCP_HEADERS")
        internal = MCPServer.objects.create(
            name="Internal API",
            status="healthy",
            protocol="http",
            url="https://mcp.internal.example",
            server_type="internal",
            forward_user_token=True,
            headers_secret=headers,
        )
        # Written around clean() (which refuses it): an external server never gets the token.
        MCPServer.objects.create(
            name="outside",
            status="healthy",
            protocol="http",
            url="https://mcp.example.com",
            server_type="external",
            forward_user_token=True,
        )
        env = {"AIOPS_TEST_MCP_HEADERS": '{"X-Team": "noc"}'}
        with mock.patch.dict(os.environ, env):
            plan = plan_agent(self.user, user_token="user-token-123")
        shared = {c.name: c for c in plan.mcp_servers}
        per_user = {c.name: c for c in plan.user_mcp_servers}
        self.assertEqual(sorted(shared), ["outside", "time"])
        self.assertEqual(sorted(per_user), ["Internal-API"])
        self.assertEqual(
            per_user["Internal-API"].request_headers(),
            {"X-Team": "noc", "Authorization": "Token user-token-123"},
        )
        self.assertNotIn("Authorization", shared["outside"].request_headers())
        self.assertNotIn("user-token-123", repr(plan))
        # Without a token the internal server is shared like any other.
        with mock.patch.dict(os.environ, env):
            plan = plan_agent(self.user)
        self.assertIn("Internal-API", {c.name for c in plan.mcp_servers})
        self.assertEqual(internal.status, "healthy")

    @app_settings(checkpoint_url="memory://", allowed_urls={"mcp": ["https://mcp.example.net"]})
    def test_a_bad_headers_secret_skips_that_server_only(self):
        offline_model()
        time_server()
        MCPServer.objects.create(
            name="broken",
            status="healthy",
            protocol="http",
            url="https://mcp.example.net",
            headers_secret=env_secret("bad-headers", "AIOPS_TEST_BAD_HEADERS"),
        )
        with (
            mock.patch.dict(os.environ, {"AIOPS_TEST_BAD_HEADERS": "not json"}),
            self.assertLogs("aiops_nautobot.mcp", "WARNING") as logs,
        ):
            plan = plan_agent(self.user)
        self.assertEqual([c.name for c in plan.mcp_servers], ["time"])
        self.assertIn("must hold a JSON object", logs.output[0])
