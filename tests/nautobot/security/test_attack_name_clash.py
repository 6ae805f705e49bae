"""Attack 6: break the chat for everyone with two MCP server names that clash.

Before: two names that normalise to the same engine name ("inventory server" and
"inventory-server", or two names that agree in their first 64 characters) made every chat answer
503.

Now: names are unique after normalisation when saved (API and forms), and a clash written around
validation never takes the chat down: the first server (by name) keeps the name, the other is
skipped with a warning (and marked unhealthy by the health check).
"""

from __future__ import annotations

from aiops_nautobot.models import MCPServer
from aiops_nautobot.services.health import check_mcp_servers

from ..engine_fixtures import app_settings, offline_model, time_server
from .attacker import AttackTestCase

LONG = "x" * 64


@app_settings(checkpoint_url="memory://")
class NameClashAttackTest(AttackTestCase):
    def setUp(self):
        super().setUp()
        self.add_permissions(
            "aiops_nautobot.add_mcpserver",
            "aiops_nautobot.change_mcpserver",
            "aiops_nautobot.view_mcpserver",
        )

    def test_the_api_refuses_names_that_clash_after_normalisation(self):
        time_server(name="inventory server")
        time_server(name=f"{LONG}-first")
        for name in (
            "inventory-server",
            "Inventory Server!",
            "inventory_server ",
            f"{LONG}-second",
        ):
            with self.subTest(name):
                response = self.api_post(
                    "mcpserver-list", {"name": name, "protocol": "stdio", "command_name": "time"}
                )
                if name == "inventory_server ":  # a different engine name: allowed
                    self.assertHttpStatus(response, 201)
                    continue
                self.assertRefused(response, "name", "same name as")
        self.assertEqual(MCPServer.objects.count(), 3)

    def test_renaming_into_a_clash_is_refused(self):
        time_server(name="inventory server")
        other = time_server(name="billing")
        response = self.api_patch("mcpserver-detail", other.pk, {"name": "inventory.server"})
        self.assertHttpStatus(response, 200)  # '.' is kept: no clash
        response = self.api_patch("mcpserver-detail", other.pk, {"name": "inventory  server"})
        self.assertRefused(response, "name", "inventory server")
        other.refresh_from_db()
        self.assertEqual(other.name, "inventory.server")

    def test_the_form_refuses_a_clash(self):
        time_server(name="inventory server")
        data = {
            "name": "inventory-server",
            "status": "unhealthy",
            "protocol": "stdio",
            "command_name": "time",
            "mcp_endpoint": "/mcp",
            "health_check": "/health",
            "server_type": "internal",
            "timeout_seconds": 30,
        }
        self.assertFormRefused(self.form_post("mcpserver_add", data), "same name as")
        self.assertEqual(MCPServer.objects.count(), 1)

    def test_a_clash_written_around_validation_never_takes_the_chat_down(self):
        time_server(name="inventory server")
        time_server(name="inventory-server")  # the ORM skips clean(): planted
        offline_model(call_tools=["get_current_time"])
        self.add_permissions("aiops_nautobot.use_chat_conversation")
        with self.assertLogs("aiops_nautobot.mcp", "WARNING") as logs:
            response = self.api_post("chat", {"message": "What time is it?"})
        self.assertHttpStatus(response, 200)
        [call] = response.json()["tool_calls"]
        self.assertIn("timezone", call["result"])  # the first server answered
        self.assertIn("'inventory-server'", logs.output[0])
        self.assertIn("taken by 'inventory server'", logs.output[0])

    def test_the_health_check_marks_the_second_one_unhealthy(self):
        first = time_server(name="inventory server", status="unhealthy")
        second = time_server(name="inventory-server", status="healthy")
        check_mcp_servers(rechecks=0)
        first.refresh_from_db()
        second.refresh_from_db()
        self.assertEqual(first.status, "healthy")
        self.assertEqual(second.status, "unhealthy")
        self.assertIn("taken by 'inventory server'", second.last_error)
