"""MCP server health history: the list view and the panel on the MCP server's detail page."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from nautobot.apps.testing import TestCase, ViewTestCases

from aiops_nautobot.models import MCPHealthRecord, MCPServer


def history(server: MCPServer, *checks: tuple[bool, str]) -> None:
    """Health records of ``server``, one minute apart, the last one now."""
    now = timezone.now()
    for age, (healthy, error) in enumerate(reversed(checks)):
        MCPHealthRecord.objects.create(
            server=server, checked_at=now - timedelta(minutes=age), healthy=healthy, error=error
        )


class MCPHealthRecordViewTest(
    ViewTestCases.GetObjectViewTestCase, ViewTestCases.ListObjectsViewTestCase
):
    model = MCPHealthRecord

    @classmethod
    def setUpTestData(cls):
        server = MCPServer.objects.create(name="clock", url="http://127.0.0.1:9/mcp")
        history(server, (True, ""), (False, "connection refused"), (True, ""))

    def test_filter_by_health_and_server(self):
        self.add_permissions("aiops_nautobot.view_mcphealthrecord")
        other = MCPServer.objects.create(name="weather", url="http://127.0.0.1:8/mcp")
        history(other, (False, "timed out after 5 s"))
        url = self._get_url("list")
        page = self.client.get(url, {"healthy": "false"}, HTTP_HX_REQUEST="true").content.decode()
        self.assertIn("connection refused", page)
        self.assertIn("timed out after 5 s", page)
        page = self.client.get(url, {"server": "weather"}, HTTP_HX_REQUEST="true")
        self.assertNotIn("connection refused", page.content.decode())


class MCPServerHealthPanelTest(TestCase):
    def test_detail_page_shows_recent_health_checks(self):
        server = MCPServer.objects.create(name="panel", url="http://127.0.0.1:7/mcp")
        history(server, *[(True, "")] * 25, (False, "HTTP 503 from /health"))
        self.add_permissions("aiops_nautobot.view_mcpserver", "aiops_nautobot.view_mcphealthrecord")
        page = self.client.get(server.get_absolute_url()).content.decode()
        self.assertIn("Health history", page)
        self.assertIn("HTTP 503 from /health", page)  # the newest check comes first
        self.assertIn("/plugins/ai-ops/mcp-health-records/?server=", page)  # the full list

    def test_panel_hidden_without_view_permission_on_records(self):
        server = MCPServer.objects.create(name="no-records", url="http://127.0.0.1:7/mcp")
        history(server, (False, "only admins see this"))
        self.add_permissions("aiops_nautobot.view_mcpserver")
        page = self.client.get(server.get_absolute_url())
        self.assertHttpStatus(page, 200)
        self.assertNotIn("only admins see this", page.content.decode())
