"""UI views of every model, on Nautobot's view test base classes, plus UI-specific behaviour."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import override_settings
from django.urls import reverse
from nautobot.apps.testing import TestCase, ViewTestCases
from nautobot.extras.models import Secret

from aiops_nautobot import forms, models

from . import sample_data
from .engine_fixtures import app_settings
from .sample_data import GuardMiddleware, TraceMiddleware


class LLMProviderViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = models.LLMProvider

    @classmethod
    def setUpTestData(cls):
        for i in range(3):
            models.LLMProvider.objects.create(name=f"custom-{i}", description=f"Custom {i}")
        cls.form_data = {
            "name": "custom-form",
            "description": "From the form",
            "config": '{"region": "eu"}',
            "enabled": True,
        }
        cls.update_data = {"name": "custom-edited", "description": "Edited", "config": "{}"}
        cls.bulk_edit_data = {"description": "Bulk edited"}


class SystemPromptViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = models.SystemPrompt

    @classmethod
    def setUpTestData(cls):
        for i in range(3):
            models.SystemPrompt.objects.create(name=f"prompt-{i}", text=f"Prompt {i}")
        cls.form_data = {"name": "new", "text": "You help {user}.", "status": "draft"}
        cls.bulk_edit_data = {"status": "retired"}


class LLMModelViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = models.LLMModel

    @classmethod
    def setUpTestData(cls):
        sample_data.llm_models(3)
        secret = Secret.objects.create(
            name="key", provider="environment-variable", parameters={"variable": "KEY"}
        )
        cls.form_data = {
            "provider": sample_data.provider("test").pk,
            "name": "form-model",
            "api_key_secret": secret.pk,
            "temperature": 0.7,
            "environment": "PROD",
            "config": '{"answer": "ok"}',
        }
        cls.bulk_edit_data = {"temperature": 1.25, "environment": "NONPROD"}

    def setUp(self):
        super().setUp()
        # Binding a Secret through the form needs the change permission on it (issue 11).
        self.add_permissions("extras.change_secret")


class MiddlewareTypeViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = models.MiddlewareType

    @classmethod
    def setUpTestData(cls):
        for i in range(3):
            models.MiddlewareType.objects.create(name=f"custom-type-{i}")
        cls.form_data = {"name": "custom-form", "description": "d", "default_config": "{}"}
        cls.bulk_edit_data = {"description": "Bulk edited"}


class LLMMiddlewareViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = models.LLMMiddleware

    @classmethod
    def setUpTestData(cls):
        llms = sample_data.llm_models(4)
        guard = sample_data.middleware_type(GuardMiddleware)
        trace = sample_data.middleware_type(TraceMiddleware)
        for i, llm in enumerate(llms[:3]):
            models.LLMMiddleware.objects.create(
                llm_model=llm, middleware_type=guard, priority=i + 1
            )
        cls.form_data = {
            "llm_model": llms[3].pk,
            "middleware_type": trace.pk,
            "priority": 5,
            "config": '{"label": "form"}',
            "is_active": True,
        }
        cls.bulk_edit_data = {"priority": 42}


@app_settings(
    allowed_urls={"mcp": ["http://127.0.0.1:*", "https://mcp.internal.example"]},
    token_forwarding_prefixes=["https://mcp.internal.example/mcp"],
)
class MCPServerViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    model = models.MCPServer

    @classmethod
    def setUpTestData(cls):
        for i in range(3):
            models.MCPServer.objects.create(name=f"mcp-{i}", url=f"http://127.0.0.1:81{i}0")
        cls.form_data = {
            "name": "form-mcp",
            "status": "unhealthy",
            "protocol": "http",
            "url": "https://mcp.internal.example",
            "mcp_endpoint": "/mcp",
            "health_check": "/health",
            "server_type": "internal",
            "verify_tls": True,
            "timeout_seconds": 15,
            "forward_user_token": True,
        }
        cls.bulk_edit_data = {"status": "vulnerable", "timeout_seconds": 5}

    def test_json_list_fields_through_the_form(self):
        self.add_permissions("aiops_nautobot.add_mcpserver")
        data = {**self.form_data, "name": "json-lists", "allowed_tools": '["get_current_time"]'}
        self.client.post(self._get_url("add"), data)
        server = models.MCPServer.objects.get(name="json-lists")
        self.assertEqual((server.allowed_tools, server.denied_tools), (["get_current_time"], []))
        data = {**data, "name": "bad-lists", "denied_tools": '"-m x"'}
        page = self.client.post(self._get_url("add"), data).content.decode()
        self.assertIn("JSON list of strings", page)
        self.assertFalse(models.MCPServer.objects.filter(name="bad-lists").exists())


class ConversationViewTest(ViewTestCases.PrimaryObjectViewTestCase):
    """Rows belong to the test's user (created in ``setUp``); others' rows are invisible."""

    model = models.Conversation

    @classmethod
    def setUpTestData(cls):
        cls.form_data = {"title": "From the form"}
        cls.bulk_edit_data = {"title": "Bulk edited"}

    def setUp(self):
        super().setUp()
        for i in range(3):
            models.Conversation.objects.create(thread_id=f"thread-{i}", owner=self.user)

    def list_page(self) -> str:
        """The list rows, which Nautobot loads with a second (HTMX) request."""
        return self.client.get(self._get_url("list"), HTTP_HX_REQUEST="true").content.decode()

    def test_created_conversation_belongs_to_creator_and_others_are_hidden(self):
        self.add_permissions("aiops_nautobot.add_conversation", "aiops_nautobot.view_conversation")
        other = get_user_model().objects.create_user(username="someone-else")
        hidden = models.Conversation.objects.create(thread_id="hidden-thread", owner=other)
        self.client.post(self._get_url("add"), {"thread_id": "chosen-here", "title": "made here"})
        made = models.Conversation.objects.get(title="made here")
        self.assertEqual(made.owner, self.user)
        self.assertNotEqual(made.thread_id, "chosen-here")  # generated, never chosen
        listing = self.list_page()
        self.assertIn("thread-0", listing)
        self.assertIn(made.thread_id, listing)
        self.assertNotIn("hidden-thread", listing)
        self.assertHttpStatus(self.client.get(hidden.get_absolute_url()), 404)

    @override_settings(EXEMPT_VIEW_PERMISSIONS=["*"])
    def test_get_object_anonymous(self):
        """Replaces the base test: even with view permissions exempt, no one sees others' rows."""
        self.client.logout()
        row = self._get_queryset().first()
        self.assertHttpStatus(self.client.get(row.get_absolute_url()), 404)

    @override_settings(EXEMPT_VIEW_PERMISSIONS=["aiops_nautobot.conversation"])
    def test_list_objects_anonymous_with_exempt_permission_for_one_view_only(self):
        """Replaces the base test: an anonymous list of conversations is empty."""
        self.client.logout()
        listing = self.list_page()
        self.assertNotIn("thread-0", listing)


class MiddlewareFormTest(TestCase):
    """The middleware form tells the user the chosen type's settings and defaults."""

    def test_config_help_names_fields_and_defaults(self):
        guard = sample_data.middleware_type(GuardMiddleware)
        form = forms.LLMMiddlewareForm(initial={"middleware_type": guard.pk})
        help_text = form.fields["config"].help_text
        self.assertIn("mode, threshold", help_text)
        self.assertIn('"threshold": 3', help_text)

    def test_detail_view_shows_type_schema(self):
        self.add_permissions("aiops_nautobot.view_middlewaretype")
        guard = sample_data.middleware_type(GuardMiddleware)
        page = self.client.get(guard.get_absolute_url()).content.decode()
        self.assertIn("config schema", page.lower())
        self.assertIn("minimum", page)  # from the schema: threshold >= 1


class NavigationTest(TestCase):
    def test_ai_ops_menu_lists_every_model(self):
        self.user.is_superuser = True
        self.user.save()
        page = self.client.get(reverse("home")).content.decode()
        self.assertIn("AI Ops", page)
        for name in ["llm-providers", "llm-models", "mcp-servers", "conversations"]:
            self.assertIn(f"/plugins/ai-ops/{name}/", page)
