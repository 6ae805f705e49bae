"""Model validation: clean() rules, database constraints, versioning, natural keys."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from nautobot.apps.testing import TestCase

from aiops_nautobot import models
from aiops_nautobot.services.model_choice import model_choice

from . import sample_data
from .engine_fixtures import app_settings
from .sample_data import GuardMiddleware


class LLMProviderTest(TestCase):
    def test_registered_handler_config_is_validated(self):
        provider = models.LLMProvider(name="aiops-unseeded", config={})
        provider.full_clean()  # unknown name: a custom provider, config free-form
        test = sample_data.provider("test")
        test.config = {"chunk_size": 0}
        with self.assertRaises(ValidationError) as caught:
            test.full_clean()
        self.assertIn("chunk_size", str(caught.exception.message_dict["config"]))
        test.config = {"unknown_key": 1}
        with self.assertRaises(ValidationError) as caught:
            test.full_clean()
        self.assertIn("unknown key", str(caught.exception.message_dict["config"]))
        test.config = {"chunk_size": 4}
        test.full_clean()

    def test_config_must_be_an_object(self):
        with self.assertRaises(ValidationError) as caught:
            models.LLMProvider(name="custom", config=["a"]).full_clean()
        self.assertIn("config", caught.exception.message_dict)


class LLMModelTest(TestCase):
    def test_second_default_rejected_by_the_database(self):
        first, second = sample_data.llm_models(2)
        first.is_default = True
        first.save()
        second.is_default = True
        with self.assertRaises(IntegrityError), transaction.atomic():
            second.save()

    def test_second_default_rejected_by_validation_with_a_message(self):
        first, second = sample_data.llm_models(2)
        first.is_default = True
        first.save()
        second.is_default = True
        with self.assertRaises(ValidationError) as caught:
            second.full_clean()
        self.assertIn("already the default", str(caught.exception))

    def test_many_non_default_models_allowed(self):
        rows = sample_data.llm_models(3)
        self.assertFalse(any(row.is_default for row in rows))

    def test_config_validated_merged_over_provider_config(self):
        llm = sample_data.llm_models(1)[0]
        llm.config = {"chunk_size": -1}
        with self.assertRaises(ValidationError) as caught:
            llm.full_clean()
        self.assertIn("config", caught.exception.message_dict)
        llm.config = {"answer": "fine"}
        llm.full_clean()

    def test_temperature_range(self):
        llm = sample_data.llm_models(1)[0]
        for bad in (-0.1, 2.1):
            llm.temperature = bad
            with self.assertRaises(ValidationError):
                llm.full_clean()
        llm.temperature = 2.0
        llm.full_clean()

    def test_provider_is_protected_and_unique_name_per_provider(self):
        llm = sample_data.llm_models(1)[0]
        with self.assertRaises(ValidationError):
            models.LLMModel(provider=llm.provider, name=llm.name).full_clean()
        from django.db.models import ProtectedError

        with self.assertRaises(ProtectedError):
            llm.provider.delete()

    def test_natural_key_is_provider_and_name(self):
        llm = sample_data.llm_models(1)[0]
        self.assertEqual(llm.natural_key(), ["test", llm.name])
        self.assertEqual(models.LLMModel.objects.get_by_natural_key("test", llm.name), llm)
        self.assertEqual(str(llm), f"test:{llm.name}")
        self.assertEqual(llm.spec, f"test:{llm.name}")


class SystemPromptTest(TestCase):
    def test_version_increments_only_when_text_changes(self):
        prompt = models.SystemPrompt.objects.create(name="p", text="one")
        self.assertEqual(prompt.version, 1)
        prompt.status = "draft"
        prompt.save()
        self.assertEqual(prompt.version, 1)
        prompt.text = "two"
        prompt.save()
        prompt.refresh_from_db()
        self.assertEqual(prompt.version, 2)
        prompt.text = "three"
        prompt.save(update_fields=["text"])
        prompt.refresh_from_db()
        self.assertEqual(prompt.version, 3)

    def test_render_keeps_other_braces(self):
        prompt = models.SystemPrompt(
            name="p", text='Hi {user} on {provider}: {"json": 1} {{user}} {unknown}'
        )
        self.assertEqual(
            prompt.render(user="ana", provider="openai"),
            'Hi ana on openai: {"json": 1} {{user}} {unknown}',
        )


class LLMMiddlewareTest(TestCase):
    def setUp(self):
        self.llm = sample_data.llm_models(1)[0]
        self.guard = sample_data.middleware_type(GuardMiddleware)

    def row(self, **values):
        return models.LLMMiddleware(llm_model=self.llm, middleware_type=self.guard, **values)

    def test_invalid_config_names_the_field(self):
        with self.assertRaises(ValidationError) as caught:
            self.row(config={"threshold": 0}).full_clean()
        self.assertIn("threshold", str(caught.exception.message_dict["config"]))
        with self.assertRaises(ValidationError) as caught:
            self.row(config={"mode": "explode"}).full_clean()
        self.assertIn("mode", str(caught.exception.message_dict["config"]))
        self.row(config={"threshold": 5, "mode": "block"}).full_clean()

    def test_priority_range(self):
        for bad in (0, 101):
            with self.assertRaises(ValidationError) as caught:
                self.row(priority=bad).full_clean()
            self.assertIn("priority", caught.exception.message_dict)
        for good in (1, 100):
            self.row(priority=good).full_clean()

    def test_unknown_type_is_reported_on_the_type(self):
        ghost = models.MiddlewareType.objects.create(name="aiops-not-registered")
        with self.assertRaises(ValidationError) as caught:
            models.LLMMiddleware(llm_model=self.llm, middleware_type=ghost).full_clean()
        self.assertIn("middleware_type", caught.exception.message_dict)

    def test_unique_per_model_and_spec(self):
        row = self.row(priority=7, config={"threshold": 4}, is_critical=True)
        row.save()
        with self.assertRaises(ValidationError):
            self.row().full_clean()
        spec = row.to_spec()
        self.assertEqual(
            (spec.type, spec.priority, dict(spec.config), spec.critical, spec.active),
            (GuardMiddleware.name, 7, {"threshold": 4}, True, True),
        )

    def test_deleting_the_model_cascades(self):
        self.row().save()
        self.llm.delete()
        self.assertFalse(models.LLMMiddleware.objects.exists())


@app_settings(
    allowed_urls={"mcp": ["https://mcp.internal.example", "http://mcp.internal.example"]},
    token_forwarding_prefixes=["https://mcp.internal.example/mcp"],
)
class MCPServerTest(TestCase):
    def server(self, **values):
        defaults = {"name": "s", "url": "https://mcp.internal.example"}
        return models.MCPServer(**{**defaults, **values})

    def test_forward_user_token_rule(self):
        self.server(forward_user_token=True).full_clean()
        refused = {
            "external": {"server_type": "external"},
            "plain http": {"url": "http://mcp.internal.example"},
            "no tls verification": {"verify_tls": False},
            "stdio": {"protocol": "stdio", "command_name": "time", "url": ""},
        }
        for why, values in refused.items():
            with self.subTest(why), self.assertRaises(ValidationError) as caught:
                self.server(forward_user_token=True, **values).full_clean()
            self.assertIn("forward_user_token", caught.exception.message_dict)

    def test_transport_requirements(self):
        with self.assertRaises(ValidationError) as caught:
            self.server(url="").full_clean()
        self.assertIn("url", caught.exception.message_dict)
        with self.assertRaises(ValidationError) as caught:
            self.server(protocol="stdio", url="").full_clean()
        self.assertIn("command_name", caught.exception.message_dict)
        self.server(protocol="stdio", url="", command_name="time").full_clean()

    def test_list_fields_and_paths(self):
        with self.assertRaises(ValidationError) as caught:
            self.server(allowed_tools=[1], denied_tools="x", mcp_endpoint="mcp").full_clean()
        self.assertEqual(
            {"denied_tools", "allowed_tools", "mcp_endpoint"} - set(caught.exception.message_dict),
            set(),
        )

    def test_urls(self):
        server = self.server(url="https://mcp.internal.example/")
        self.assertEqual(server.endpoint_url, "https://mcp.internal.example/mcp")
        self.assertEqual(server.health_url, "https://mcp.internal.example/health")
        self.assertEqual(server.status, "unhealthy")


class ConversationTest(TestCase):
    def test_use_chat_permission_declared(self):
        self.assertIn(
            ("use_chat", "Can use the AI Ops chat"), models.Conversation._meta.permissions
        )

    def test_str_and_model_deletion_keeps_conversation(self):
        llm = sample_data.llm_models(1)[0]
        row = models.Conversation.objects.create(thread_id="t-1", owner=self.user, llm_model=llm)
        self.assertEqual(str(row), "t-1")
        llm.delete()
        row.refresh_from_db()
        self.assertIsNone(row.llm_model)


class LLMModelReasoningConfigTest(TestCase):
    """Reasoning settings in an ``LLMModel``'s JSON config are checked against the handler."""

    def model(self, provider: str, config: dict, temperature: float = 1.0) -> models.LLMModel:
        return models.LLMModel(
            provider=sample_data.provider(provider),
            name=f"{provider}-reasoner",
            temperature=temperature,
            config=config,
        )

    def assertInvalid(self, row: models.LLMModel, *words: str) -> None:
        with self.assertRaises(ValidationError) as caught:
            row.full_clean()
        message = str(caught.exception.message_dict["config"])
        for word in words:
            self.assertIn(word, message)

    def test_valid_reasoning_settings_of_every_handler(self):
        for provider, config in [
            ("anthropic", {"thinking": {"type": "enabled", "budget_tokens": 2048}}),
            ("anthropic", {"thinking": "adaptive", "effort": "high"}),
            ("anthropic", {"thinking": 8192, "interleaved_thinking": True}),
            (
                "openai",
                {"api": "responses", "reasoning_effort": "high", "reasoning_summary": "auto"},
            ),
            ("openai", {"reasoning_effort": "low"}),
            ("azure_openai", {"api": "responses", "reasoning_effort": "medium", "store": True}),
            ("ollama", {"think": "high"}),
            ("huggingface", {"reasoning_effort": "low"}),
        ]:
            with self.subTest(provider=provider, config=config):
                row = self.model(provider, config)
                row.full_clean()
                row.save()
                self.assertEqual(models.LLMModel.objects.get(pk=row.pk).config, config)
                row.delete()

    def test_invalid_reasoning_settings_name_the_problem(self):
        self.assertInvalid(self.model("anthropic", {"thinking": 512}), "thinking", "1024")
        self.assertInvalid(self.model("anthropic", {"thinking": 8192}), "less than max_tokens")
        self.assertInvalid(self.model("openai", {"reasoning_summary": "auto"}), "responses")
        self.assertInvalid(self.model("ollama", {"think": "max"}), "think")
        self.assertInvalid(
            self.model("openai", {"reasoning_effort": "enormous"}), "reasoning_effort"
        )

    def test_the_temperature_field_is_part_of_the_check(self):
        # Claude thinks at temperature 1: the model's temperature field must agree.
        row = self.model("anthropic", {"thinking": 2048}, temperature=0.0)
        self.assertInvalid(row, "temperature must be 1")
        row.temperature = 1.0
        row.full_clean()
        row.temperature = None  # empty: the provider's default, which thinking accepts
        row.full_clean()

    def test_an_empty_temperature_is_not_sent(self):
        # OpenAI reasoning models refuse any temperature but their default: leave it out.
        row = self.model("openai", {"reasoning_effort": "low"}, temperature=None)
        row.full_clean()
        row.save()
        self.assertNotIn("temperature", model_choice(row).options)
        row.temperature = 0.2
        self.assertEqual(model_choice(row).options["temperature"], 0.2)

    def test_provider_config_and_model_config_are_checked_together(self):
        provider = sample_data.provider("anthropic")
        provider.config = {"max_tokens": 16000}
        provider.save()
        self.model("anthropic", {"thinking": 8192}).full_clean()  # under the provider's max_tokens
