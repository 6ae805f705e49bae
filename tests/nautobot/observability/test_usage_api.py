"""``GET usage/``: a user sees their own usage unless they may view usage records."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.testing import APITestCase
from nautobot.users.models import Token

from aiops_nautobot.models import ToolUsageRecord, UsageRecord


def record(user, model="openai:gpt-4o", cost="0.01", outcome="ok"):
    return UsageRecord.objects.create(
        run_id="r",
        user=user,
        model=model,
        provider=model.split(":")[0],
        started_at=timezone.now(),
        latency=0.5,
        input_tokens=100,
        output_tokens=10,
        cost=None if cost is None else Decimal(cost),
        outcome=outcome,
    )


class UsageSummaryTest(APITestCase):
    def setUp(self):
        super().setUp()  # self.user: a non-superuser with a token
        self.other = get_user_model().objects.create_user(username="other")
        record(self.user)
        record(self.user, cost=None)
        record(self.other, model="anthropic:claude-haiku-4-5", outcome="RateLimitError")
        ToolUsageRecord.objects.create(
            run_id="r", user=self.other, tool="secret_tool", started_at=timezone.now(), latency=1
        )
        self.url = reverse("plugins-api:aiops_nautobot-api:usage")

    def get(self, url, **params):
        return self.client.get(url, params, **self.header)

    def test_a_user_sees_only_their_own_usage(self):
        self.assertFalse(self.user.is_superuser)
        data = self.get(self.url).json()
        [row] = data["results"]
        self.assertEqual(row["model"], "openai:gpt-4o")
        self.assertEqual((row["calls"], row["unpriced_calls"], row["cost"]), (2, 1, "0.010000"))
        by_user = self.get(self.url, by="user").json()["results"]
        self.assertEqual([r["user"] for r in by_user], [self.user.username])
        tools = self.get(reverse("plugins-api:aiops_nautobot-api:usage-tools")).json()
        self.assertEqual(tools["results"], [])

    def test_view_permission_shows_everybody(self):
        self.add_permissions(
            "aiops_nautobot.view_usagerecord", "aiops_nautobot.view_toolusagerecord"
        )
        rows = {r["model"]: r for r in self.get(self.url).json()["results"]}
        self.assertEqual(rows["anthropic:claude-haiku-4-5"]["errors"], 1)
        self.assertEqual(len(rows), 2)
        tools = self.get(reverse("plugins-api:aiops_nautobot-api:usage-tools")).json()
        self.assertEqual(tools["results"][0]["tool"], "secret_tool")

    def test_by_day_and_bad_parameters(self):
        [day] = self.get(self.url, by="day", days=1).json()["results"]
        self.assertEqual((day["day"], day["calls"]), (str(timezone.now().date()), 2))
        self.assertHttpStatus(self.get(self.url, by="colour"), 400)
        self.assertHttpStatus(self.get(self.url, days="0"), 400)

    def test_anonymous_is_refused(self):
        self.assertHttpStatus(self.client.get(self.url), 403)

    def test_other_users_token_sees_only_theirs(self):
        token = Token.objects.create(user=self.other)
        data = self.client.get(self.url, HTTP_AUTHORIZATION=f"Token {token.key}").json()
        self.assertEqual([r["model"] for r in data["results"]], ["anthropic:claude-haiku-4-5"])
