"""Usage records list, the "Usage & cost" dashboard and the tool analytics page (real Nautobot).

The permission tests run as a non-superuser whose view permission is constrained to their own
rows with ``{"user": "$user"}``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from nautobot.apps.testing import TestCase, ViewTestCases
from nautobot.users.models import ObjectPermission

from aiops_nautobot.models import ToolUsageRecord, UsageRecord


def record(user, model="openai:gpt-4o", cost="0.01", outcome="ok", days_ago=0, **values):
    return UsageRecord.objects.create(
        run_id=values.pop("run_id", "run"),
        thread_id=values.pop("thread_id", "thread-a"),
        user=user,
        model=model,
        provider=model.split(":")[0],
        started_at=timezone.now() - timedelta(days=days_ago),
        latency=values.pop("latency", 0.5),
        input_tokens=values.pop("input_tokens", 100),
        output_tokens=values.pop("output_tokens", 10),
        cached_tokens=values.pop("cached_tokens", 0),
        cost=None if cost is None else Decimal(cost),
        outcome=outcome,
        **values,
    )


def tool_call(user, tool, server="", latency=1.0, outcome="ok", result_chars=100, days_ago=0):
    return ToolUsageRecord.objects.create(
        run_id="run",
        user=user,
        tool=tool,
        server=server,
        started_at=timezone.now() - timedelta(days=days_ago),
        latency=latency,
        outcome=outcome,
        result_chars=result_chars,
    )


def own_rows_only(user, model: type) -> None:
    """A view permission on ``model`` limited to ``user``'s own rows."""
    permission = ObjectPermission.objects.create(
        name=f"own {model._meta.model_name}", actions=["view"], constraints={"user": "$user"}
    )
    permission.users.add(user)
    permission.object_types.add(ContentType.objects.get_for_model(model))


class UsageRecordViewTest(
    ViewTestCases.GetObjectViewTestCase, ViewTestCases.ListObjectsViewTestCase
):
    """The read-only list and detail on Nautobot's own view test cases."""

    model = UsageRecord
    filter_on_field = "model"

    @classmethod
    def setUpTestData(cls):
        UsageRecord.objects.all().delete()  # rows left in a reused database (rolled back)
        owner = get_user_model().objects.create_user(username="usage-owner")
        record(owner, model="openai:gpt-4o")
        record(owner, model="openai:gpt-4o-mini", cost=None)
        record(owner, model="anthropic:claude-haiku-4-5", outcome="RateLimitError")

    def list_page(self, **params) -> str:
        url = reverse("plugins:aiops_nautobot:usagerecord_list")
        return self.client.get(url, params, HTTP_HX_REQUEST="true").content.decode()

    def test_unknown_cost_is_shown_as_unknown(self):
        self.add_permissions("aiops_nautobot.view_usagerecord")
        page = self.list_page(model="openai:gpt-4o-mini")
        self.assertIn("unknown", page)
        self.assertNotIn("$0.0000", page)
        page = self.list_page(model="openai:gpt-4o")
        self.assertIn("$0.0100", page)
        self.assertNotIn("unknown", page)

    def test_detail_page_shows_unknown_cost(self):
        self.add_permissions("aiops_nautobot.view_usagerecord")
        unpriced = UsageRecord.objects.get(model="openai:gpt-4o-mini")
        page = self.client.get(unpriced.get_absolute_url()).content.decode()
        self.assertIn('<span id="_value_cost">unknown</span>', page)
        priced = UsageRecord.objects.get(model="openai:gpt-4o")
        page = self.client.get(priced.get_absolute_url()).content.decode()
        self.assertIn('<span id="_value_cost">$0.0100</span>', page)

    def test_filters_by_outcome_user_thread_and_date(self):
        self.add_permissions("aiops_nautobot.view_usagerecord")
        other = get_user_model().objects.create_user(username="usage-other")
        record(other, model="openai:o3", thread_id="thread-z", days_ago=10)
        page = self.list_page(outcome="RateLimitError")
        self.assertIn("claude-haiku-4-5", page)
        self.assertNotIn("gpt-4o-mini", page)
        page = self.list_page(user="usage-other")
        self.assertIn("openai:o3", page)
        self.assertNotIn("gpt-4o-mini", page)
        self.assertIn("openai:o3", self.list_page(thread_id="thread-z"))
        since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
        page = self.list_page(started_after=since)
        self.assertNotIn("openai:o3", page)
        self.assertIn("gpt-4o-mini", page)


class ToolUsageRecordViewTest(
    ViewTestCases.GetObjectViewTestCase, ViewTestCases.ListObjectsViewTestCase
):
    """The read-only list of tool calls; a ``$user`` constraint shows a user only theirs."""

    model = ToolUsageRecord
    filter_on_field = "tool"

    @classmethod
    def setUpTestData(cls):
        ToolUsageRecord.objects.all().delete()  # rows left in a reused database (rolled back)
        owner = get_user_model().objects.create_user(username="tool-owner")
        tool_call(owner, "get_time", server="clock")
        tool_call(owner, "search", outcome="ToolError")
        tool_call(owner, "lookup", server="dns", latency=0.25)

    def list_page(self, **params) -> str:
        url = reverse("plugins:aiops_nautobot:toolusagerecord_list")
        return self.client.get(url, params, HTTP_HX_REQUEST="true").content.decode()

    def test_filter_failures_and_own_rows_only(self):
        self.add_permissions("aiops_nautobot.view_toolusagerecord")
        page = self.list_page(outcome="ToolError")
        self.assertIn(">search<", page)
        self.assertNotIn(">get_time<", page)
        self.assertIn(">lookup<", self.list_page(server="dns"))

    def test_constrained_user_sees_only_their_tool_calls(self):
        own_rows_only(self.user, ToolUsageRecord)
        tool_call(self.user, "my_tool")
        page = self.list_page()
        self.assertIn(">my_tool<", page)
        self.assertNotIn(">get_time<", page)


class UsageDashboardTest(TestCase):
    """The dashboard's totals, groups and charts."""

    url = reverse("plugins:aiops_nautobot:usage_dashboard")

    def setUp(self):
        super().setUp()  # self.user: a non-superuser, logged in
        UsageRecord.objects.all().delete()  # rows left in a reused database (rolled back)
        self.other = get_user_model().objects.create_user(username="dash-other")
        record(self.user, cost="0.25", input_tokens=1000, cached_tokens=200, output_tokens=50)
        record(self.user, cost="0.50", days_ago=2)
        record(self.user, model="openai:gpt-4o-mini", cost=None)
        record(self.other, model="anthropic:claude-haiku-4-5", cost="2.00", outcome="Timeout")
        record(self.other, cost="9.00", days_ago=40)  # outside 30 days, inside 90

    def page(self, **params) -> str:
        response = self.client.get(self.url, params)
        self.assertHttpStatus(response, 200)
        return response.content.decode()

    def test_no_permission_is_refused(self):
        self.assertHttpStatus(self.client.get(self.url), 403)
        self.client.logout()
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 302)
        self.assertIn("/login/", response.url)

    def test_totals_and_charts_with_full_view_permission(self):
        self.add_permissions("aiops_nautobot.view_usagerecord")
        page = self.page()
        self.assertIn('<td data-total="calls">4</td>', page)
        self.assertIn('<td data-total="errors">1</td>', page)
        self.assertIn('<td data-total="input_tokens">1300</td>', page)
        self.assertIn('<td data-total="cached_tokens">200</td>', page)
        self.assertIn("$2.7500 + 1 of unknown cost", page)
        # By model: gpt-4o $0.75, haiku $2.00 (the chart's longest bar), gpt-4o-mini unknown.
        self.assertIn('aria-label="Cost by model"', page)
        self.assertRegex(page, r'>anthropic:claude-haiku-4-5</text><rect [^>]*width="360"')
        self.assertRegex(page, r'>openai:gpt-4o</text><rect [^>]*width="135"')
        self.assertRegex(
            page, r'>openai:gpt-4o-mini</text><rect [^>]*width="0"[^>]*data-value="unknown"'
        )
        self.assertIn(">unknown</text>", page)
        self.assertIn(">$0.7500</text>", page)
        # By user and by day.
        self.assertIn(">dash-other</text>", page)
        self.assertIn(f">{self.user.username}</text>", page)
        self.assertIn(f'data-key="{timezone.now().date()}"', page)
        self.assertNotIn("$9.0000", page)
        self.assertIn("$11.7500", self.page(days=90))

    def test_constrained_user_sees_only_their_own_calls(self):
        own_rows_only(self.user, UsageRecord)
        page = self.page()
        self.assertIn('<td data-total="calls">3</td>', page)
        self.assertIn("$0.7500 + 1 of unknown cost", page)
        self.assertNotIn("dash-other", page)
        self.assertNotIn("claude-haiku", page)

    def test_only_unpriced_calls_cost_unknown_not_zero(self):
        UsageRecord.objects.exclude(cost=None).delete()
        self.add_permissions("aiops_nautobot.view_usagerecord")
        page = self.page()
        self.assertIn('<td data-total="cost">unknown</td>', page)
        self.assertNotIn("$0.0000", page)

    def test_a_bad_period_says_what_to_choose(self):
        self.add_permissions("aiops_nautobot.view_usagerecord")
        page = self.page(days=12)
        self.assertIn("Choose a period of 7, 30 or 90 days", page)
        self.assertIn("last 30 days", page)

    def test_no_inline_script_in_charts(self):
        self.add_permissions("aiops_nautobot.view_usagerecord")
        page = self.page()
        ours = page[page.index('id="aiops-usage-totals"') : page.index("</main>")]
        self.assertIn("<svg", ours)
        self.assertNotIn("<script", ours)


class ToolAnalyticsTest(TestCase):
    url = reverse("plugins:aiops_nautobot:tool_analytics")

    def setUp(self):
        super().setUp()
        ToolUsageRecord.objects.all().delete()  # rows left in a reused database (rolled back)
        self.other = get_user_model().objects.create_user(username="tools-other")
        for latency in (0.1, 0.2, 0.3, 0.4, 1.0):
            tool_call(self.user, "get_time", server="clock", latency=latency, result_chars=50)
        tool_call(self.user, "get_time", server="clock", outcome="ToolError", latency=2.0)
        tool_call(self.user, "search", latency=0.5, outcome="paused")
        tool_call(self.other, "secret_tool", latency=3.0)

    @staticmethod
    def cells(page: str, tool: str) -> list[str]:
        row = page[page.index(f'data-tool="{tool}"') :]
        row = row[: row.index("</tr>")]
        return [c.split("</td>")[0] for c in row.split("<td>")[1:]]

    def test_no_permission_is_refused(self):
        self.assertHttpStatus(self.client.get(self.url), 403)

    def test_per_tool_calls_error_rate_latency_percentiles(self):
        self.add_permissions("aiops_nautobot.view_toolusagerecord")
        page = self.client.get(self.url).content.decode()
        # 6 calls, 1 failure; latencies 0.1 .. 1.0, 2.0: p50 = 0.35, p95 = 1.75 (interpolated).
        cells = self.cells(page, "get_time")
        self.assertEqual(cells[:5], ["get_time", "clock", "6", "1", "17%"])
        self.assertEqual(cells[5:7], ["0.350", "1.750"])
        self.assertIn('data-tool="secret_tool"', page)
        self.assertEqual(self.cells(page, "search")[:5], ["search", "(native)", "1", "0", "0%"])

    def test_constrained_user_sees_only_their_tools(self):
        own_rows_only(self.user, ToolUsageRecord)
        page = self.client.get(self.url).content.decode()
        self.assertIn('data-tool="get_time"', page)
        self.assertNotIn("secret_tool", page)
