"""The app's OpenTelemetry switch: chat turns as GenAI spans on the global providers (the ones
Nautobot sets up from its ``OTEL_*`` settings), only when the operator turns it on."""

from __future__ import annotations

from django.urls import reverse
from nautobot.apps.testing import APITransactionTestCase
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aiops_core.errors import UserError
from aiops_nautobot.settings import get_settings

from ..engine_fixtures import app_settings, offline_model

SPANS = InMemorySpanExporter()


def _global_provider() -> TracerProvider:
    """The process's SDK tracer provider, set once (OpenTelemetry allows a single one)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    return provider


class ChatTelemetryTest(APITransactionTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _global_provider().add_span_processor(SimpleSpanProcessor(SPANS))

    def setUp(self):
        super().setUp()
        self.add_permissions("aiops_nautobot.use_chat_conversation")
        offline_model()
        SPANS.clear()

    def chat(self, message: str = "is sw1 up?") -> None:
        url = reverse("plugins-api:aiops_nautobot-api:chat")
        response = self.client.post(url, {"message": message}, format="json", **self.header)
        self.assertHttpStatus(response, 200)

    def names(self) -> list[str]:
        return [s.name for s in SPANS.get_finished_spans() if s.name.split()[0] in OPERATIONS]

    @app_settings(checkpoint_url="memory://")
    def test_off_by_default(self):
        self.chat()
        self.assertEqual(self.names(), [])

    @app_settings(checkpoint_url="memory://", opentelemetry=True)
    def test_a_turn_is_a_run_span_with_model_and_tool_spans(self):
        self.chat("is sw1 up? secret-question")
        spans = [s for s in SPANS.get_finished_spans() if s.name.split()[0] in OPERATIONS]
        names = [s.name for s in spans]
        self.assertIn("invoke_agent aiops_nautobot", names)
        self.assertIn("chat test:assistant", names)
        self.assertTrue(any(n.startswith("execute_tool ") for n in names), names)
        chat = next(s for s in spans if s.name == "chat test:assistant")
        self.assertEqual(chat.attributes["gen_ai.operation.name"], "chat")
        self.assertGreater(chat.attributes["gen_ai.usage.input_tokens"], 0)
        for span in spans:  # no message bodies unless capture_content
            self.assertNotIn("secret-question", str(dict(span.attributes or {})))

    @app_settings(
        checkpoint_url="memory://",
        opentelemetry={"enabled": True, "capture_content": True},
    )
    def test_bodies_only_with_capture_content(self):
        self.chat("is sw1 up? wanted-in-trace")
        self.assertTrue(
            any(
                "wanted-in-trace" in str(dict(s.attributes or {}))
                for s in SPANS.get_finished_spans()
            )
        )

    def test_a_bad_setting_says_what_to_set(self):
        for value, expected in (
            ("yes", "must be true, false or a dict"),
            ({"enabled": "yes"}, "['enabled'] must be true or false"),
            ({"exporter": "otlp"}, "unknown keys ['exporter']"),
        ):
            pattern = expected.replace("[", r"\[")
            with (
                self.subTest(value=value),
                app_settings(opentelemetry=value),
                self.assertRaisesRegex(UserError, pattern),
            ):
                get_settings()


OPERATIONS = {"invoke_agent", "chat", "execute_tool"}
