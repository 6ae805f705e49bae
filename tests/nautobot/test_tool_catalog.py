"""The MCP tool catalog in a real Nautobot: discovery, refusals, approval and review.

The MCP server is the real ``mcp-server-time`` over stdio (its tools say ``readOnlyHint``).
A changed definition is simulated by a review of another definition (``reviewed_fingerprint``).
"""

from __future__ import annotations

import anyio
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase, TransactionTestCase
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.users.models import ObjectPermission

from aiops_core.context import RunContext
from aiops_core.errors import ApprovalRequired
from aiops_core.mcp import MCPClientPool
from aiops_core.messages import ToolCall
from aiops_core.tools import ToolInvocation, execute_tool
from aiops_nautobot.models import MCPServer, MCPTool
from aiops_nautobot.services.mcp_catalog import CatalogToolset, catalog_snapshot, tool_fingerprint
from aiops_nautobot.services.mcp_servers import server_config

from .api.test_chat import CHAT_PERMISSION
from .engine_fixtures import memory_store, offline_model, time_server
from .test_jobs import run as run_job
from .test_mcp_oauth import close_mcp_pools

TOOL = "get_current_time"
OTHER_DEFINITION = "0" * 64


def offered_tools(row, call_tool: str | None = None) -> dict:
    """The time server's tools as the catalog offers them (a fresh snapshot and a real pool).

    With ``call_tool``, that tool is called in the open pool as the agent calls it; its outcome
    (a result, or the :class:`ApprovalRequired` that pauses the run) is under ``"outcome"``.
    """
    config, catalog = server_config(row), catalog_snapshot()  # the sync half

    async def main():
        async with MCPClientPool([config]) as pool:
            tools = {
                t.metadata["mcp_tool"]: t for t in await CatalogToolset(pool, catalog).list_tools()
            }
            if call_tool is None:
                return tools
            invocation = ToolInvocation(
                call=ToolCall(id="c1", name=tools[call_tool].name, arguments={"timezone": "UTC"}),
                tool=tools[call_tool],
                context=RunContext(),
            )
            try:
                return {**tools, "outcome": await execute_tool(invocation)}
            except ApprovalRequired as pause:
                return {**tools, "outcome": pause}

    return anyio.run(main)


def fingerprints(row) -> dict[str, str]:
    """The current fingerprints of the time server's tools, straight from the server."""

    config = server_config(row)

    async def main():
        async with MCPClientPool([config]) as pool:
            await pool.list_tools()
            return {s.name: tool_fingerprint(s) for s in pool.session("time").offered_tools()}

    return anyio.run(main)


class CatalogTest(TransactionTestCase):
    """The pool's listing records the tools; the rows decide what the model gets.

    Rows are committed: discovery records them in a worker thread of its own.
    """

    def setUp(self):
        super().setUp()
        self.server = time_server()

    def tool_row(self) -> MCPTool:
        offered_tools(self.server)
        return MCPTool.objects.get(server=self.server, name=TOOL)

    def test_discovery_records_every_tool_enabled_read_only_and_unreviewed(self):
        tools = offered_tools(self.server, call_tool=TOOL)
        outcome = tools.pop("outcome")
        self.assertEqual(set(tools), {"get_current_time", "convert_time"})
        rows = MCPTool.objects.filter(server=self.server).order_by("name")
        self.assertEqual([r.name for r in rows], ["convert_time", "get_current_time"])
        current = fingerprints(self.server)
        for row in rows:
            self.assertEqual((row.enabled, row.access), (True, "read_only"))
            self.assertEqual(row.fingerprint, current[row.name])
            self.assertIn("time", row.description.lower())
            self.assertIsNone(row.reviewed_by)
            self.assertEqual(row.reviewed_fingerprint, "")
        # Read-only and unreviewed: offered as the server describes it, called without approval.
        self.assertFalse(tools[TOOL].metadata.get("requires_approval"))
        self.assertFalse(outcome.is_error, outcome.text)
        self.assertIn("UTC", outcome.text)
        offered_tools(self.server)  # a second listing adds nothing
        self.assertEqual(MCPTool.objects.filter(server=self.server).count(), 2)

    def test_a_disabled_tool_is_not_offered(self):
        row = self.tool_row()
        row.enabled = False
        row.save()
        self.assertEqual(set(offered_tools(self.server)), {"convert_time"})

    def test_a_writable_tool_is_refused_until_reviewed_then_always_needs_approval(self):
        row = self.tool_row()
        row.access = "writable"
        row.save()
        listing = offered_tools(self.server, call_tool=TOOL)
        tool, result = listing[TOOL], listing["outcome"]
        self.assertNotIn("current time", tool.description.lower())
        self.assertTrue(result.is_error)
        self.assertIn("ToolRefused", result.text)
        self.assertIn("writable and not reviewed", result.text)

        reviewer = get_user_model().objects.create_user(username="reviewer")
        row.mark_reviewed(reviewer)
        row.refresh_from_db()
        self.assertEqual((row.reviewed_by, row.reviewed_fingerprint), (reviewer, row.fingerprint))
        self.assertIsNotNone(row.reviewed_at)
        listing = offered_tools(self.server, call_tool=TOOL)
        self.assertTrue(listing[TOOL].metadata["requires_approval"])
        self.assertIsInstance(listing["outcome"], ApprovalRequired)
        self.assertIn("always needs approval", str(listing["outcome"]))

    def test_a_definition_changed_after_review_is_refused_until_reviewed_again(self):
        row = self.tool_row()
        MCPTool.objects.filter(pk=row.pk).update(reviewed_fingerprint=OTHER_DEFINITION)
        row.refresh_from_db()
        self.assertTrue(row.changed_since_review)
        listing = offered_tools(self.server, call_tool=TOOL)  # read-only, yet refused: changed
        tool, result = listing[TOOL], listing["outcome"]
        self.assertTrue(result.is_error)
        self.assertIn("changed its definition after it was reviewed", result.text)
        self.assertNotIn("current time", tool.description.lower())

        row.mark_reviewed(get_user_model().objects.create_user(username="second-look"))
        result = offered_tools(self.server, call_tool=TOOL)["outcome"]
        self.assertFalse(result.is_error, result.text)
        self.assertIn("UTC", result.text)


@memory_store
class CatalogChatTest(APITestCase):
    """The chat through the API: the catalog's decision reaches the model and the user."""

    def setUp(self):
        super().setUp()
        self.add_permissions(CHAT_PERMISSION)
        offline_model(call_tools=[TOOL])
        self.server = time_server()
        self.row = MCPTool.objects.create(
            server=self.server,
            name=TOOL,
            access="writable",
            fingerprint=fingerprints(self.server)[TOOL],
        )

    def chat(self):
        url = reverse("plugins-api:aiops_nautobot-api:chat")
        return self.client.post(url, {"message": "What time is it?"}, format="json", **self.header)

    def test_an_unreviewed_writable_tool_is_refused_with_a_clear_error(self):
        data = self.chat().json()
        self.assertEqual(data["status"], "completed")
        [tool_call] = data["tool_calls"]
        self.assertIn("writable and not reviewed", tool_call["result"])

    def test_a_reviewed_writable_tool_pauses_for_approval(self):
        self.row.mark_reviewed(self.user)
        data = self.chat().json()
        self.assertEqual(data["status"], "pending_approval")
        [pending] = data["pending_approval"]
        self.assertEqual(pending["name"], TOOL)
        self.assertIn("always needs approval", pending["reason"])


class MarkReviewedAPITest(APITestCase):
    """``POST mcp-tools/{id}/mark-reviewed/`` needs ``change_mcptool``."""

    def setUp(self):
        super().setUp()
        self.row = MCPTool.objects.create(
            server=time_server(), name=TOOL, access="writable", fingerprint="f" * 64
        )
        self.url = reverse(
            "plugins-api:aiops_nautobot-api:mcptool-mark-reviewed", kwargs={"pk": self.row.pk}
        )

    def test_viewing_is_not_enough_to_review(self):
        self.add_permissions("aiops_nautobot.view_mcptool")
        response = self.client.post(self.url, format="json", **self.header)
        self.assertHttpStatus(response, 403)
        self.row.refresh_from_db()
        self.assertEqual((self.row.reviewed_by, self.row.reviewed_fingerprint), (None, ""))

    def test_the_review_fields_cannot_be_written_directly(self):
        self.add_permissions("aiops_nautobot.view_mcptool", "aiops_nautobot.change_mcptool")
        detail = reverse(
            "plugins-api:aiops_nautobot-api:mcptool-detail", kwargs={"pk": self.row.pk}
        )
        response = self.client.patch(
            detail,
            {"reviewed_fingerprint": "f" * 64, "enabled": False},
            format="json",
            **self.header,
        )
        self.assertHttpStatus(response, 200)
        self.row.refresh_from_db()
        self.assertEqual((self.row.enabled, self.row.reviewed_fingerprint), (False, ""))

    def test_the_change_permission_records_the_review(self):
        self.add_permissions("aiops_nautobot.view_mcptool", "aiops_nautobot.change_mcptool")
        response = self.client.post(self.url, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        data = response.json()
        self.assertTrue(data["reviewed"])
        self.assertEqual(data["reviewed_fingerprint"], "f" * 64)
        self.row.refresh_from_db()
        self.assertEqual(self.row.reviewed_by, self.user)


class CatalogViewTest(TestCase):
    """The UI: the list and detail pages, and "Mark reviewed" on the edit form."""

    def setUp(self):
        super().setUp()
        self.row = MCPTool.objects.create(
            server=time_server(), name=TOOL, access="writable", fingerprint="e" * 64
        )
        self.edit = reverse("plugins:aiops_nautobot:mcptool_edit", kwargs={"pk": self.row.pk})

    def form(self, **values):
        return {"server": self.row.server.pk, "name": "renamed", "access": "writable", **values}

    def test_list_and_detail_pages(self):
        self.add_permissions("aiops_nautobot.view_mcptool")
        page = self.client.get(reverse("plugins:aiops_nautobot:mcptool_list"))
        self.assertHttpStatus(page, 200)
        self.assertContains(page, "MCP Tools")
        page = self.client.get(
            reverse("plugins:aiops_nautobot:mcptool", kwargs={"pk": self.row.pk})
        )
        self.assertContains(page, "e" * 64)

    def test_mark_reviewed_records_the_user_and_server_and_name_stay(self):
        self.add_permissions("aiops_nautobot.view_mcptool", "aiops_nautobot.change_mcptool")
        response = self.client.post(self.edit, self.form(enabled="on", mark_reviewed="on"))
        self.assertHttpStatus(response, 302)
        self.row.refresh_from_db()
        self.assertEqual(self.row.name, TOOL)  # not a field of the edit form: ignored
        self.assertEqual(
            (self.row.reviewed_by, self.row.reviewed_fingerprint), (self.user, "e" * 64)
        )

    def test_without_change_permission_the_form_reviews_nothing(self):
        self.add_permissions("aiops_nautobot.view_mcptool")
        response = self.client.post(self.edit, self.form(enabled="on", mark_reviewed="on"))
        self.assertHttpStatus(response, 403)
        self.row.refresh_from_db()
        self.assertEqual(self.row.reviewed_fingerprint, "")


class HealthCheckCatalogTest(TransactionTestCase):
    """The health check (scheduled job and API action) fills the catalog before anybody chats.

    Rows are committed: discovery records them in a worker thread of its own.
    """

    def setUp(self):
        super().setUp()
        self.addCleanup(close_mcp_pools)

    def test_the_scheduled_job_records_new_tools_unreviewed_and_skips_vulnerable_servers(self):
        server = time_server(status="unhealthy")
        off = time_server(status="vulnerable", name="time-off")
        self.assertFalse(MCPTool.objects.exists())
        result = run_job("MCPServerHealthCheck", rechecks=0, recheck_delay_seconds=0)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, result.result)
        self.assertEqual(result.result["tools_recorded"], 2)
        self.assertIn("tool catalog: 2 new or changed tool(s) recorded", result.result["servers"])
        rows = MCPTool.objects.filter(server=server).order_by("name")
        self.assertEqual([r.name for r in rows], ["convert_time", "get_current_time"])
        current = fingerprints(server)
        for row in rows:
            self.assertEqual((row.enabled, row.access), (True, "read_only"))  # readOnlyHint
            self.assertEqual(row.fingerprint, current[row.name])
            self.assertIn("time", row.description.lower())
            self.assertEqual((row.reviewed_fingerprint, row.reviewed_by), ("", None))
        self.assertFalse(MCPTool.objects.filter(server=off).exists())

        again = run_job("MCPServerHealthCheck", rechecks=0, recheck_delay_seconds=0)
        self.assertEqual(again.result["tools_recorded"], 0)  # nothing new, nothing changed
        self.assertEqual(MCPTool.objects.count(), 2)

    def test_the_api_action_flags_a_changed_definition_and_the_chat_refuses_it(self):
        server = time_server(status="unhealthy")
        # Reviewed once, when the tool had another definition (what the server says now is new).
        row = MCPTool.objects.create(
            server=server,
            name=TOOL,
            access="writable",
            fingerprint=OTHER_DEFINITION,
            description="old",
            reviewed_fingerprint=OTHER_DEFINITION,
        )
        self.assertFalse(row.changed_since_review)
        operator = get_user_model().objects.create_user(username="operator")
        permission = ObjectPermission.objects.create(name="check", actions=["view", "change"])
        permission.object_types.add(ContentType.objects.get_for_model(MCPServer))
        permission.users.add(operator)
        client = Client()
        client.force_login(operator)
        url = reverse(
            "plugins-api:aiops_nautobot-api:mcpserver-health-check", kwargs={"pk": server.pk}
        )
        response = client.post(url, content_type="application/json")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "healthy")

        row.refresh_from_db()
        self.assertEqual(row.fingerprint, fingerprints(server)[TOOL])
        self.assertTrue(row.changed_since_review)  # flagged on the tool's page
        self.assertEqual((row.access, row.reviewed_fingerprint), ("writable", OTHER_DEFINITION))
        self.assertTrue(MCPTool.objects.filter(server=server, name="convert_time").exists())
        outcome = offered_tools(server, call_tool=TOOL)["outcome"]
        self.assertTrue(outcome.is_error)
        self.assertIn("changed its definition after it was reviewed", outcome.text)
