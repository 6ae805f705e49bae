"""Attack 1: run a command on the Nautobot host through an MCP server row.

Before: a user with add/change on MCP servers created a stdio server with ``command`` ``/bin/sh``
and ``args`` ``["-c", "..."]``, set its ``status`` to healthy through the API, then POSTed its
``health-check/`` action (or waited for the next chat or the scheduled job).

Now: the database holds no command. A stdio row names one of the commands the operator lists in
``PLUGINS_CONFIG["aiops_nautobot"]["stdio_commands"]``; nothing listed, stdio is off. Only a
health check marks a server healthy. Refused on save (API and forms) and again when used.
"""

from __future__ import annotations

import sys

from aiops_nautobot.models import Conversation, MCPServer

from ..engine_fixtures import app_settings, offline_model, time_server
from .attacker import AttackTestCase

CHAT = "aiops_nautobot.use_chat_conversation"
TIME_ARGV = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]


@app_settings(checkpoint_url="memory://", stdio_commands=None)
class StdioCommandAttackTest(AttackTestCase):
    def attack(self, **values):
        """What the attacker sends: their own command, and a healthy status."""
        command = [sys.executable, "-c", f"open({str(self.marker)!r}, 'w').write('pwned')"]
        return {
            "name": "helpful-tools",
            "protocol": "stdio",
            "command": command[0],  # the old fields: no longer part of the model
            "args": command[1:],
            "command_name": command[0],
            "status": "healthy",
            **values,
        }

    def test_the_api_refuses_a_command_of_the_users_choosing(self):
        self.add_permissions("aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver")
        response = self.api_post("mcpserver-list", self.attack())
        self.assertRefused(response, "command_name", "stdio MCP servers are off", "stdio_commands")
        self.assertRefused(response, "status", "Only a health check marks a server healthy")
        self.assertFalse(MCPServer.objects.exists())
        self.assertNothingRan()

    def test_the_form_refuses_it_too(self):
        self.add_permissions("aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver")
        data = {**self.attack(), "mcp_endpoint": "/mcp", "health_check": "/health"}
        data |= {"server_type": "internal", "timeout_seconds": 30, "verify_tls": "on"}
        response = self.form_post("mcpserver_add", data)
        self.assertFormRefused(response, "stdio MCP servers are off")
        self.assertFalse(MCPServer.objects.exists())
        self.assertNothingRan()

    @app_settings(checkpoint_url="memory://", stdio_commands={"time": {"argv": TIME_ARGV}})
    def test_only_a_listed_name_is_accepted(self):
        self.add_permissions("aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver")
        response = self.api_post("mcpserver-list", self.attack(status="unhealthy"))
        self.assertRefused(response, "command_name", "stdio_commands", "time")
        response = self.api_post("mcpserver-list", self.attack(command_name="sh", status=None))
        self.assertHttpStatus(response, 400)
        self.assertFalse(MCPServer.objects.exists())
        self.assertNothingRan()

    def test_turning_an_http_server_into_a_stdio_one_is_refused(self):
        server = MCPServer.objects.create(name="web", url="http://127.0.0.1:9")
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        response = self.api_patch(
            "mcpserver-detail", server.pk, {"protocol": "stdio", "command_name": "/bin/sh"}
        )
        self.assertHttpStatus(response, 400)
        server.refresh_from_db()
        self.assertEqual((server.protocol, server.command_name), ("http", ""))

    def test_status_healthy_is_refused_but_the_kill_switch_is_not(self):
        server = MCPServer.objects.create(name="web", url="http://127.0.0.1:9")
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        response = self.api_patch("mcpserver-detail", server.pk, {"status": "healthy"})
        self.assertRefused(response, "status", "health check")
        server.refresh_from_db()
        self.assertEqual(server.status, "unhealthy")
        response = self.api_patch("mcpserver-detail", server.pk, {"status": "vulnerable"})
        self.assertHttpStatus(response, 200)
        response = self.api_patch(
            "mcpserver-detail", server.pk, {"last_error": "all good", "last_checked": None}
        )
        self.assertHttpStatus(response, 200)
        server.refresh_from_db()
        self.assertEqual((server.status, server.last_error), ("vulnerable", ""))

    def test_a_row_written_around_validation_never_runs(self):
        """A healthy stdio row naming an unlisted command: the health check and the chat refuse."""
        row = MCPServer.objects.create(
            name="planted", protocol="stdio", command_name="evil", status="healthy"
        )
        offline_model(call_tools=[])
        self.add_permissions(
            CHAT, "aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver"
        )
        response = self.api_post("chat", {"message": "hello"})
        self.assertHttpStatus(response, 200)  # the chat runs, without that server
        self.assertNothingRan()
        response = self.api_post("mcpserver-health-check", pk=row.pk)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["status"], "unhealthy")
        self.assertIn("stdio_commands", response.json()["last_error"])
        row.refresh_from_db()
        self.assertEqual(row.status, "unhealthy")
        self.assertNothingRan()


class OperatorStdioCommandTest(AttackTestCase):
    """The positive side: a command the operator lists runs, for a user who may only name it."""

    @app_settings(checkpoint_url="memory://", stdio_commands={"clock": {"argv": TIME_ARGV}})
    def test_a_listed_command_is_used_by_the_chat(self):
        self.add_permissions(
            CHAT,
            "aiops_nautobot.add_mcpserver",
            "aiops_nautobot.change_mcpserver",
            "aiops_nautobot.view_mcpserver",
        )
        response = self.api_post(
            "mcpserver-list", {"name": "clock", "protocol": "stdio", "command_name": "clock"}
        )
        self.assertHttpStatus(response, 201)
        server_id = response.json()["id"]
        response = self.api_post("mcpserver-health-check", pk=server_id)
        self.assertEqual(response.json()["status"], "healthy")
        offline_model(call_tools=["get_current_time"])
        data = self.api_post("chat", {"message": "What time is it?"}).json()
        [call] = data["tool_calls"]
        self.assertEqual(call["name"], "get_current_time")
        # The real server answered (the offline test model's argument is a dummy timezone).
        self.assertIn("timezone", call["result"])
        self.assertTrue(Conversation.objects.filter(thread_id=data["thread_id"]).exists())

    def test_the_tests_own_time_server_fixture_names_the_listed_command(self):
        self.assertEqual(time_server().command_name, "time")
