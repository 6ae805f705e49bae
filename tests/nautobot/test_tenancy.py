"""Multi-tenancy: two tenants with their own default models, prompts, middleware and MCP servers.

A user whose object permissions are constrained to tenant A never gets tenant B's model, prompt,
tools or conversations; a user allowed on both chooses; the shared configuration applies where a
tenant has none; the database keeps one default per tenant plus one shared default.
"""

from __future__ import annotations

from decimal import Decimal

import anyio
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from nautobot.apps.testing import (
    APITestCase,
    APITransactionTestCase,
    TestCase,
    TransactionTestCase,
)
from nautobot.dcim.models import Location, LocationType
from nautobot.extras.management import populate_status_choices
from nautobot.extras.models import Status
from nautobot.tenancy.models import Tenant

from aiops_core.context import RunContext
from aiops_nautobot.forms import LLMModelForm
from aiops_nautobot.models import (
    Budget,
    Conversation,
    LLMMiddleware,
    LLMModel,
    LLMProvider,
    MCPServer,
    MiddlewareType,
    SystemPrompt,
    UsageRecord,
)
from aiops_nautobot.services.agent_factory import plan_agent
from aiops_nautobot.services.chat import prepare_chat
from aiops_nautobot.services.errors import ChatInputError, UnknownModelError
from aiops_nautobot.settings import get_settings
from aiops_nautobot.tenancy import chat_tenant
from aiops_nautobot.tools import NativeToolsConfig, native_tools

from .engine_fixtures import app_settings, memory_store, offline_model, time_server
from .tools.network import grant, viewer

CHAT_PERMISSION = "aiops_nautobot.use_chat_conversation"


class Config:
    """Tenants A, B and C (C has no configuration of its own) and the shared configuration."""

    def __init__(self) -> None:
        self.a = Tenant.objects.create(name="Tenant A")
        self.b = Tenant.objects.create(name="Tenant B")
        self.c = Tenant.objects.create(name="Tenant C")
        provider, _ = LLMProvider.objects.get_or_create(name="test")
        self.prompts = {
            key: SystemPrompt.objects.create(
                name=f"prompt-{key}", text=f"You serve {key}.", tenant=tenant
            )
            for key, tenant in (("shared", None), ("a", self.a), ("b", self.b))
        }
        self.models = {
            key: LLMModel.objects.create(
                provider=provider,
                name=f"model-{key}",
                is_default=True,
                environment="LAB",
                tenant=tenant,
                system_prompt=self.prompts[key],
            )
            for key, tenant in (("shared", None), ("a", self.a), ("b", self.b))
        }
        self.servers = {
            key: time_server(name=f"time-{key}")
            for key in ("shared", "a", "b")  # one real stdio server each
        }
        MCPServer.objects.filter(name="time-a").update(tenant=self.a)
        MCPServer.objects.filter(name="time-b").update(tenant=self.b)
        retry, _ = MiddlewareType.objects.get_or_create(name="retry")
        logging_type, _ = MiddlewareType.objects.get_or_create(name="logging")
        shared_model = self.models["shared"]
        LLMMiddleware.objects.create(llm_model=shared_model, middleware_type=retry)
        LLMMiddleware.objects.create(
            llm_model=shared_model, middleware_type=logging_type, tenant=self.b
        )


def server_names(plan) -> set[str]:
    return {c.name for c in (*plan.mcp_servers, *plan.user_mcp_servers)}


class DefaultPerTenantTest(TestCase):
    """One default per tenant plus one shared default, in the database and with clear errors."""

    def setUp(self):
        super().setUp()
        self.config = Config()
        self.provider = LLMProvider.objects.get(name="test")

    def second(self, tenant):
        return LLMModel(
            provider=self.provider, name="second", is_default=True, environment="LAB", tenant=tenant
        )

    def test_a_second_default_of_a_tenant_is_rejected_by_the_database(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            self.second(self.config.a).save()

    def test_a_second_shared_default_is_rejected_by_the_database(self):
        with self.assertRaises(IntegrityError), transaction.atomic():
            self.second(None).save()

    def test_a_default_of_a_tenant_without_one_is_allowed(self):
        self.second(self.config.c).save()
        self.assertEqual(LLMModel.objects.filter(is_default=True).count(), 4)

    def test_validation_says_which_default_is_taken(self):
        with self.assertRaises(ValidationError) as caught:
            self.second(self.config.a).full_clean()
        self.assertIn("already the default of this tenant", str(caught.exception))
        with self.assertRaises(ValidationError) as caught:
            self.second(None).full_clean()
        self.assertIn("shared LLM model (no tenant) is already the default", str(caught.exception))

    def test_the_form_reports_the_second_default(self):
        form = LLMModelForm(
            data={
                "provider": self.provider.pk,
                "name": "second",
                "is_default": True,
                "environment": "LAB",
                "tenant": self.config.a.pk,
                "config": "{}",
            }
        )
        self.assertFalse(form.is_valid())
        self.assertIn("already the default of this tenant", str(form.errors))

    def test_a_model_cannot_use_another_tenants_prompt(self):
        model = self.config.models["a"]
        model.system_prompt = self.config.prompts["b"]
        with self.assertRaises(ValidationError) as caught:
            model.full_clean()
        self.assertIn("another tenant", str(caught.exception.message_dict["system_prompt"]))
        shared = self.config.models["shared"]
        shared.system_prompt = self.config.prompts["a"]
        with self.assertRaises(ValidationError):
            shared.full_clean()

    def test_middleware_of_a_tenant_model_cannot_name_another_tenant(self):
        retry = MiddlewareType.objects.get(name="retry")
        row = LLMMiddleware(
            llm_model=self.config.models["a"], middleware_type=retry, tenant=self.config.b
        )
        with self.assertRaises(ValidationError) as caught:
            row.full_clean()
        self.assertIn("tenant", caught.exception.message_dict)


class TenantPlanTest(TestCase):
    """The turn's model, prompt, middleware and MCP servers for a tenant, with the shared ones."""

    def setUp(self):
        super().setUp()
        self.config = Config()
        self.user.is_superuser = True  # the plan itself; permissions are the API tests' concern

    def test_each_tenant_gets_its_own_default_prompt_and_servers_plus_the_shared(self):
        for key, tenant in (("a", self.config.a), ("b", self.config.b)):
            plan = plan_agent(self.user, tenant=tenant)
            self.assertEqual(plan.model.spec, f"test:model-{key}")
            self.assertIn(f"You serve {key}.", plan.system_prompt)
            self.assertEqual(server_names(plan), {"time-shared", f"time-{key}"})
            self.assertEqual(plan.tenant_key, str(tenant.pk))

    def test_no_tenant_gets_only_the_shared_configuration(self):
        plan = plan_agent(self.user)
        self.assertEqual(plan.model.spec, "test:model-shared")
        self.assertIn("You serve shared.", plan.system_prompt)
        self.assertEqual(server_names(plan), {"time-shared"})
        self.assertEqual([m.type for m in plan.middleware], ["retry"])
        self.assertIsNone(plan.tenant_key)

    def test_a_tenant_without_configuration_falls_back_to_the_shared(self):
        plan = plan_agent(self.user, tenant=self.config.c)
        self.assertEqual(plan.model.spec, "test:model-shared")
        self.assertIn("You serve shared.", plan.system_prompt)
        self.assertEqual(server_names(plan), {"time-shared"})

    def test_tenant_middleware_applies_only_to_that_tenant(self):
        shared = str(self.config.models["shared"].pk)
        names_b = [
            m.type for m in plan_agent(self.user, model=shared, tenant=self.config.b).middleware
        ]
        names_a = [
            m.type for m in plan_agent(self.user, model=shared, tenant=self.config.a).middleware
        ]
        self.assertEqual(sorted(names_b), ["logging", "retry"])
        self.assertEqual(names_a, ["retry"])

    def test_another_tenants_model_is_never_chosen_even_by_a_superuser(self):
        for selector in ("model-b", str(self.config.models["b"].pk), "test:model-b"):
            with self.assertRaises(UnknownModelError):
                plan_agent(self.user, model=selector, tenant=self.config.a)
        with self.assertRaises(UnknownModelError):
            plan_agent(self.user, model="model-a")  # no tenant: shared models only

    def test_a_prompt_of_another_tenant_written_around_validation_is_not_used(self):
        LLMModel.objects.filter(pk=self.config.models["a"].pk).update(
            system_prompt=self.config.prompts["b"]
        )
        plan = plan_agent(self.user, tenant=self.config.a)
        self.assertNotIn("You serve b.", plan.system_prompt)
        self.assertNotIn("You serve a.", plan.system_prompt)  # the built-in prompt instead


class TenantBudgetFallbackTest(TestCase):
    """A fallback budget never switches a turn to another tenant's model."""

    def setUp(self):
        super().setUp()
        self.config = Config()
        self.user.is_superuser = True

    def test_a_budget_may_fall_back_only_to_a_shared_model_or_its_tenants(self):
        budget = Budget(
            name="cap",
            limit=Decimal(0),
            action="fallback",
            fallback_model=self.config.models["b"],
        )
        with self.assertRaises(ValidationError) as caught:
            budget.full_clean()
        self.assertIn("fall back only", str(caught.exception.message_dict["fallback_model"]))
        budget.tenant = self.config.b
        budget.full_clean()

    def test_a_fallback_to_another_tenants_model_refuses_instead(self):
        Budget.objects.create(  # written around validation: a global cap falling back to B's
            name="cap", limit=Decimal(0), action="fallback", fallback_model=self.config.models["b"]
        )
        [row_a] = plan_agent(self.user, tenant=self.config.a).usage.budgets
        self.assertEqual((row_a.action, row_a.fallback), ("refuse", None))
        [row_b] = plan_agent(self.user, tenant=self.config.b).usage.budgets
        self.assertEqual((row_b.action, row_b.fallback), ("fallback", "test:model-b"))


@memory_store
class TenantChatAPITest(APITestCase):
    """Users constrained to tenant A, and a user allowed on both tenants, through the chat API."""

    def setUp(self):
        super().setUp()
        self.config = Config()
        self.url = reverse("plugins-api:aiops_nautobot-api:chat")
        self.add_permissions(CHAT_PERMISSION)
        # The API test user is not a superuser: tenant A only.
        grant(self.user, Tenant, name="Tenant A")
        grant(self.user, LLMModel, tenant__name="Tenant A")

    def chat(self, **body):
        return self.client.post(self.url, body, format="json", **self.header)

    def test_a_user_of_tenant_a_chats_with_tenant_a_configuration(self):
        response = self.chat(message="hello", tenant="Tenant A")
        self.assertHttpStatus(response, 200)
        data = response.json()
        self.assertEqual(data["model"], "test:model-a")
        conversation = Conversation.objects.get(thread_id=data["thread_id"])
        self.assertEqual(conversation.tenant, self.config.a)
        self.assertEqual(conversation.llm_model, self.config.models["a"])
        # The test model calls every tool it is given: the shared server's and A's, never B's.
        tools = {call["name"] for call in data["tool_calls"]}
        self.assertIn("time-a_get_current_time", tools)
        self.assertIn("time-shared_get_current_time", tools)
        self.assertFalse([name for name in tools if name.startswith("time-b")], tools)

    def test_tenant_by_id_works_too(self):
        response = self.chat(message="hello", tenant=str(self.config.a.pk))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["model"], "test:model-a")

    def test_tenant_b_is_refused_like_a_missing_tenant(self):
        for value in ("Tenant B", str(self.config.b.pk), "Tenant Nowhere"):
            response = self.chat(message="hello", tenant=value)
            self.assertHttpStatus(response, 400)
            self.assertIn("matches no tenant you may view", response.json()["detail"])
        self.assertFalse(Conversation.objects.filter(tenant=self.config.b).exists())

    def test_tenant_b_model_is_refused_under_tenant_a(self):
        for selector in ("model-b", str(self.config.models["b"].pk)):
            response = self.chat(message="hello", tenant="Tenant A", model=selector)
            self.assertHttpStatus(response, 400)
            self.assertIn("matches no model", response.json()["detail"])

    def test_without_a_tenant_the_shared_configuration_applies(self):
        response = self.chat(message="hello")
        self.assertHttpStatus(response, 200)
        data = response.json()
        self.assertEqual(data["model"], "test:model-shared")
        self.assertIsNone(Conversation.objects.get(thread_id=data["thread_id"]).tenant)

    def test_a_thread_keeps_its_tenant(self):
        first = self.chat(message="hello", tenant="Tenant A").json()
        again = self.chat(message="more", thread_id=first["thread_id"])
        self.assertHttpStatus(again, 200)
        self.assertEqual(again.json()["model"], "test:model-a")
        same = self.chat(message="more", thread_id=first["thread_id"], tenant="Tenant A")
        self.assertHttpStatus(same, 200)
        shared = self.chat(message="hello").json()
        moved = self.chat(message="more", thread_id=shared["thread_id"], tenant="Tenant A")
        self.assertHttpStatus(moved, 400)
        self.assertIn("belongs to another tenant", moved.json()["detail"])

    def test_a_user_on_both_tenants_chooses(self):
        grant(self.user, Tenant, name__in=["Tenant B"], description="")
        response = self.chat(message="hello", tenant="Tenant B")
        self.assertHttpStatus(response, 200)
        data = response.json()
        self.assertEqual(data["model"], "test:model-b")
        moved = self.chat(message="more", thread_id=data["thread_id"], tenant="Tenant A")
        self.assertHttpStatus(moved, 400)
        self.assertIn("belongs to another tenant", moved.json()["detail"])

    def test_conversations_of_tenant_b_are_never_listed_nor_continued(self):
        grant(self.user, Conversation, ("view",), tenant__name="Tenant A")
        mine = self.chat(message="hello", tenant="Tenant A").json()["thread_id"]
        old_b = Conversation.objects.create(owner=self.user, tenant=self.config.b)
        someone = Conversation.objects.create(owner=viewer("user-b"), tenant=self.config.b)
        url = reverse("plugins-api:aiops_nautobot-api:conversation-list")
        rows = self.client.get(url, **self.header).json()["results"]
        self.assertEqual({row["thread_id"] for row in rows}, {mine})
        self.client.force_login(self.user)
        mine_row = Conversation.objects.get(thread_id=mine)
        for row, status in ((mine_row, 200), (old_b, 404), (someone, 404)):
            page = reverse("plugins:aiops_nautobot:conversation", args=[row.pk])
            self.assertHttpStatus(self.client.get(page), status)
        # A thread of a tenant the user may no longer view cannot be continued.
        response = self.chat(message="more", thread_id=old_b.thread_id)
        self.assertHttpStatus(response, 400)
        self.assertIn("matches no tenant you may view", response.json()["detail"])

    def test_conversation_tenant_is_read_only_over_rest(self):
        data = self.chat(message="hello", tenant="Tenant A").json()
        conversation = Conversation.objects.get(thread_id=data["thread_id"])
        self.add_permissions("aiops_nautobot.change_conversation")
        url = reverse("plugins-api:aiops_nautobot-api:conversation-detail", args=[conversation.pk])
        self.client.patch(url, {"tenant": str(self.config.b.pk)}, format="json", **self.header)
        conversation.refresh_from_db()
        self.assertEqual(conversation.tenant, self.config.a)

    def test_model_rows_of_tenant_b_are_hidden_and_a_second_default_is_a_clear_error(self):
        self.add_permissions("aiops_nautobot.add_llmmodel", "aiops_nautobot.view_llmprovider")
        list_url = reverse("plugins-api:aiops_nautobot-api:llmmodel-list")
        names = {row["name"] for row in self.client.get(list_url, **self.header).json()["results"]}
        self.assertEqual(names, {"model-a"})
        body = {
            "provider": str(self.config.models["a"].provider_id),
            "name": "second",
            "is_default": True,
            "environment": "LAB",
            "tenant": str(self.config.a.pk),
        }
        response = self.client.post(list_url, body, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("already the default of this tenant", str(response.json()))

    def test_a_tenant_a_admin_cannot_move_a_model_to_tenant_b_or_touch_b(self):
        grant(self.user, LLMModel, ("change",), tenant__name="Tenant A")
        grant(self.user, Tenant, name__in=["Tenant B"], description="")  # B is visible
        self.add_permissions("aiops_nautobot.view_llmprovider")
        model_a, model_b = self.config.models["a"], self.config.models["b"]
        url_a = reverse("plugins-api:aiops_nautobot-api:llmmodel-detail", args=[model_a.pk])
        moved = self.client.patch(
            url_a,
            {"tenant": str(self.config.b.pk), "is_default": False, "system_prompt": None},
            format="json",
            **self.header,
        )
        self.assertHttpStatus(moved, 403)  # the saved row would be outside the constraint
        model_a.refresh_from_db()
        self.assertEqual(model_a.tenant, self.config.a)
        url_b = reverse("plugins-api:aiops_nautobot-api:llmmodel-detail", args=[model_b.pk])
        self.assertHttpStatus(
            self.client.patch(url_b, {"description": "x"}, format="json", **self.header), 404
        )

    def test_the_tenant_filter_and_field_on_the_rest_api(self):
        self.add_permissions("aiops_nautobot.view_mcpserver")
        url = reverse("plugins-api:aiops_nautobot-api:mcpserver-list")
        response = self.client.get(url, {"tenant": "Tenant A"}, **self.header)
        self.assertHttpStatus(response, 200)
        rows = response.json()["results"]
        self.assertEqual([row["name"] for row in rows], ["time-a"])
        self.assertEqual(rows[0]["tenant"]["id"], str(self.config.a.pk))


class TenantGraphQLTest(TestCase):
    """GraphQL exposes the tenant, and tenant-constrained permissions apply to it."""

    def test_a_tenant_a_user_sees_only_tenant_a_models_with_their_tenant(self):
        from nautobot.core.graphql import execute_query

        config = Config()
        grant(self.user, LLMModel, tenant__name="Tenant A")
        grant(self.user, Tenant, name="Tenant A")
        result = execute_query("{ llm_models { name tenant { name } } }", user=self.user)
        self.assertIsNone(result.errors)
        self.assertEqual(
            result.data["llm_models"], [{"name": "model-a", "tenant": {"name": "Tenant A"}}]
        )
        self.assertTrue(config.models["b"].pk)  # exists, yet not returned


class ChatPageTenantTest(TestCase):
    """The chat page offers only the tenants (and their models) the user may view."""

    def setUp(self):
        super().setUp()
        self.config = Config()
        self.add_permissions(CHAT_PERMISSION)
        grant(self.user, Tenant, name="Tenant A")
        self.client.force_login(self.user)

    def test_the_picker_lists_tenant_a_and_no_model_of_tenant_b(self):
        response = self.client.get(reverse("plugins:aiops_nautobot:chat"))
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('id="aiops-chat-tenant"', html)
        config = response.context["chat_config"]
        self.assertEqual([t["name"] for t in config["tenants"]], ["Tenant A"])
        labels = {m["label"]: m["tenant"] for m in config["models"]}
        self.assertEqual(labels, {"test:model-a": str(self.config.a.pk), "test:model-shared": None})
        self.assertNotIn("model-b", html)
        self.assertNotIn("Tenant B", html)

    def test_no_picker_without_a_viewable_tenant(self):
        other = viewer("no-tenant")
        grant(other, Conversation, ("use_chat",))
        self.client.force_login(other)
        response = self.client.get(reverse("plugins:aiops_nautobot:chat"))
        self.assertEqual(response.status_code, 200)
        self.assertNotIn('id="aiops-chat-tenant"', response.content.decode())


class TenancySettingsTest(TestCase):
    def test_restrict_tools_to_tenant_is_off_by_default_and_validated(self):
        self.assertFalse(get_settings().tenancy.restrict_tools_to_tenant)
        with app_settings(tenancy={"restrict_tools_to_tenant": True}):
            self.assertTrue(get_settings().tenancy.restrict_tools_to_tenant)
        for bad in ({"restrict_tools_to_tenant": "yes"}, {"restrict": True}, ["x"]):
            with app_settings(tenancy=bad), self.assertRaises(Exception) as caught:
                get_settings()
            self.assertIn("tenancy", str(caught.exception))

    def test_chat_tenant_needs_a_string(self):
        with self.assertRaises(ChatInputError):
            chat_tenant(self.user, 3)
        self.assertIsNone(chat_tenant(self.user, None))


def call_tool(tool, **arguments):
    return anyio.run(tool.invoke, arguments, RunContext())


class TenantScopedToolsTest(TransactionTestCase):
    """With ``restrict_tools_to_tenant``, a tenant's conversation sees only that tenant's objects.

    Committed rows (``TransactionTestCase``): the tools run in worker threads.
    """

    def setUp(self):
        super().setUp()
        populate_status_choices(verbosity=0)
        self.a = Tenant.objects.create(name="Tenant A")
        self.b = Tenant.objects.create(name="Tenant B")
        site, _ = LocationType.objects.get_or_create(name="Site")
        active = Status.objects.get(name="Active")
        for name, tenant in (("loc-a", self.a), ("loc-b", self.b), ("loc-none", None)):
            Location.objects.create(name=name, location_type=site, status=active, tenant=tenant)
        offline_model()
        self.person = viewer("both")
        grant(self.person, Location)
        grant(self.person, Tenant)

    def search(self, tools):
        [search] = [t for t in tools if t.name == "nautobot_search"]
        text = call_tool(search, model="dcim.location", fields=["name"])
        return {name for name in ("loc-a", "loc-b", "loc-none") if name in text}

    def test_scoped_tools_see_only_the_tenants_objects(self):
        tools = native_tools(self.person, NativeToolsConfig(), tenant=self.a)
        self.assertEqual(self.search(tools), {"loc-a"})
        names = {t.name for t in tools}
        self.assertNotIn("nautobot_graphql", names)  # cannot be scoped: not offered
        self.assertNotIn("nautobot_propose_change_set", names)

    def test_unscoped_tools_see_what_the_user_may_view(self):
        tools = native_tools(self.person, NativeToolsConfig())
        self.assertEqual(self.search(tools), {"loc-a", "loc-b", "loc-none"})
        self.assertIn("nautobot_graphql", {t.name for t in tools})

    def test_the_operator_setting_scopes_a_tenant_conversation(self):
        with app_settings(checkpoint_url="memory://", tenancy={"restrict_tools_to_tenant": True}):
            chat = prepare_chat(self.person, "hello", tenant="Tenant B")
            self.assertEqual(self.search(chat.plan.tools), {"loc-b"})
            [lookup] = [t for t in chat.plan.tools if t.name == "nautobot_lookup"]
            text = str(call_tool(lookup, model="dcim.location"))
            self.assertIn("loc-b", text)
            self.assertNotIn("loc-a", text)
            shared = prepare_chat(self.person, "hello")
            self.assertEqual(self.search(shared.plan.tools), {"loc-a", "loc-b", "loc-none"})
        with app_settings(checkpoint_url="memory://"):
            unscoped = prepare_chat(self.person, "hello", tenant="Tenant B")
            self.assertEqual(self.search(unscoped.plan.tools), {"loc-a", "loc-b", "loc-none"})


@memory_store
class TenantUsageTest(APITransactionTestCase):
    """Usage records carry the conversation's tenant; a tenant budget counts only its turns.

    Committed rows: the usage recorder writes from the engine loop's own connection.
    """

    def setUp(self):
        super().setUp()
        self.add_permissions(CHAT_PERMISSION)
        self.a = Tenant.objects.create(name="Tenant A")
        self.b = Tenant.objects.create(name="Tenant B")
        grant(self.user, Tenant)
        model = offline_model(call_tools=[])
        model.input_price = model.output_price = Decimal(1)
        model.save()
        self.url = reverse("plugins-api:aiops_nautobot-api:chat")

    def chat(self, **body):
        return self.client.post(self.url, {"message": "hi", **body}, format="json", **self.header)

    def test_records_and_budgets_per_tenant(self):
        data = self.chat(tenant="Tenant A").json()
        records = UsageRecord.objects.filter(thread_id=data["thread_id"])
        self.assertTrue(records)
        self.assertEqual({r.tenant for r in records}, {self.a})
        shared = self.chat().json()
        self.assertEqual(
            {r.tenant for r in UsageRecord.objects.filter(thread_id=shared["thread_id"])}, {None}
        )
        summary = self.client.get(
            reverse("plugins-api:aiops_nautobot-api:usage"), {"by": "tenant"}, **self.header
        ).json()
        calls = {row["tenant"]: row["calls"] for row in summary["results"]}
        self.assertEqual(set(calls), {"Tenant A", None})
        self.assertEqual(calls["Tenant A"], records.count())
        Budget.objects.create(name="tenant a", tenant=self.a, limit=Decimal(0))
        refused = self.chat(tenant="Tenant A")
        self.assertHttpStatus(refused, 429)
        self.assertEqual(refused.json()["error"], "budget_exceeded")
        other = self.chat(tenant="Tenant B")
        self.assertHttpStatus(other, 200)
        self.assertNotIn("budget_remaining", other.json())  # A's budget does not apply to B
