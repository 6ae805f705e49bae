"""Usage records, cost, budgets and the Prometheus metrics of chat turns in a real Nautobot."""

from __future__ import annotations

from decimal import Decimal

from django.test import override_settings
from django.urls import include, path, reverse
from nautobot.apps.testing import APITransactionTestCase
from nautobot.core.views import NautobotMetricsView

from aiops_nautobot.models import Budget, MCPHealthRecord, ToolUsageRecord, UsageRecord
from aiops_nautobot.services.cleanup import prune_usage

from ..engine_fixtures import app_settings, offline_model

CHAT_PERMISSION = "aiops_nautobot.use_chat_conversation"

# Nautobot's own /metrics view (its URL exists only with METRICS_ENABLED, off in the tests).
urlpatterns = [
    path("metrics/", NautobotMetricsView.as_view()),
    path("", include("nautobot.core.urls")),
]


@app_settings(checkpoint_url="memory://")
class ChatUsageTest(APITransactionTestCase):
    """Each chat turn leaves priced usage records; budgets refuse at the limit."""

    def setUp(self):
        super().setUp()
        self.add_permissions(CHAT_PERMISSION)
        # A dollar per million input and output tokens: every turn costs a little.
        self.model = offline_model()
        self.model.input_price = Decimal(1)
        self.model.output_price = Decimal(1)
        self.model.save()
        self.url = reverse("plugins-api:aiops_nautobot-api:chat")

    def chat(self, message="hello"):
        return self.client.post(self.url, {"message": message}, format="json", **self.header)

    def test_a_turn_is_recorded_with_its_cost(self):
        response = self.chat()
        self.assertHttpStatus(response, 200)
        body = response.json()
        self.assertNotIn("budget_remaining", body)  # no budget applies
        records = list(UsageRecord.objects.order_by("step"))
        self.assertEqual([r.step for r in records], [1, 2])  # the test model looks something up
        for record in records:
            self.assertEqual(
                (record.user, record.llm_model, record.outcome), (self.user, self.model, "ok")
            )
            self.assertEqual(record.model, "test:assistant")
            tokens = record.input_tokens + record.output_tokens
            self.assertEqual(record.cost, Decimal(tokens) / Decimal(1_000_000))
        self.assertEqual(sum(r.input_tokens for r in records), body["usage"]["input_tokens"])
        self.assertEqual(sum(r.output_tokens for r in records), body["usage"]["output_tokens"])
        # The test model calls every tool once: one record each, all of this run and user.
        tools = ToolUsageRecord.objects.all()
        self.assertIn("nautobot_lookup", {t.tool for t in tools})
        self.assertEqual(len(tools), len({t.tool for t in tools}))
        for tool in tools:
            self.assertEqual((tool.user, tool.run_id), (self.user, records[0].run_id))

    def test_unpriced_model_records_unknown_cost(self):
        self.model.input_price = None
        self.model.save()
        self.assertHttpStatus(self.chat(), 200)
        self.assertEqual({r.cost for r in UsageRecord.objects.all()}, {None})

    def test_budget_remaining_then_refused_at_the_limit(self):
        self.assertHttpStatus(self.chat(), 200)
        one_turn = sum(r.cost for r in UsageRecord.objects.all())
        Budget.objects.create(name="alice daily", user=self.user, limit=one_turn * 3 / 2)
        body = self.chat().json()
        # The second turn started under the limit and finished above it: nothing is left.
        self.assertEqual(body["budget_remaining"], "0.0000")
        response = self.chat()
        self.assertHttpStatus(response, 429)
        self.assertEqual(response.json()["error"], "budget_exceeded")
        self.assertIn("Budget used up", response.json()["detail"])
        self.assertEqual(UsageRecord.objects.count(), 4)

    def test_fallback_budget_switches_model(self):
        cheap = offline_model("cheap", default=False)
        cheap.input_price = cheap.output_price = Decimal(0)
        cheap.save()
        Budget.objects.create(
            name="assistant cap",
            llm_model=self.model,
            limit=Decimal(0),
            action="fallback",
            fallback_model=cheap,
        )
        self.assertHttpStatus(self.chat(), 200)
        records = UsageRecord.objects.all()
        self.assertEqual(
            {(r.model, r.fallback_from, r.llm_model) for r in records},
            {("test:cheap", "test:assistant", cheap)},
        )

    @override_settings(ROOT_URLCONF=__name__)
    def test_metrics_endpoint_shows_the_app_series(self):
        self.assertHttpStatus(self.chat(), 200)
        self.client.post(self.url, {}, format="json", **self.header)  # a 400
        text = self.client.get("/metrics/").content.decode()
        self.assertIn('aiops_chat_requests_total{status="200",view="chat"}', text)
        self.assertIn('aiops_chat_errors_total{status="400",view="chat"}', text)
        self.assertIn('aiops_model_calls_total{model="test:assistant",outcome="ok"}', text)
        self.assertIn('aiops_model_tokens_total{model="test:assistant",type="input"}', text)
        self.assertIn('aiops_model_cost_usd_total{model="test:assistant"}', text)
        self.assertIn("aiops_chat_request_seconds_bucket", text)
        self.assertIn("aiops_mcp_server_healthy", text)

    def test_cleanup_prunes_old_records(self):
        from datetime import timedelta

        from django.utils import timezone

        self.assertHttpStatus(self.chat(), 200)
        old = timezone.now() - timedelta(days=91)
        UsageRecord.objects.update(started_at=old)
        ToolUsageRecord.objects.create(run_id="r", tool="t", started_at=old, latency=0.1)
        self.assertEqual(prune_usage(), 3)
        self.assertFalse(UsageRecord.objects.exists())
        self.assertFalse(MCPHealthRecord.objects.exists())
