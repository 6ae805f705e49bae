"""The app's checks in Nautobot's health-check framework."""

from __future__ import annotations

from health_check.plugins import plugin_dir
from nautobot.apps.testing import TestCase

from aiops_nautobot.health_checks import CheckpointStoreHealthCheck, MCPServersHealthCheck
from aiops_nautobot.models import MCPServer

from ..engine_fixtures import app_settings


class HealthChecksTest(TestCase):
    def test_registered_with_nautobot(self):
        registered = {cls for cls, _ in plugin_dir._registry}
        self.assertTrue({CheckpointStoreHealthCheck, MCPServersHealthCheck} <= registered)

    @app_settings(checkpoint_url="memory://")
    def test_store_up(self):
        check = CheckpointStoreHealthCheck()
        check.run_check()
        self.assertEqual(check.errors, [])

    @app_settings(checkpoint_url="redis://:s3cret@127.0.0.1:1/2")
    def test_store_down_names_it_without_the_password(self):
        check = CheckpointStoreHealthCheck()
        check.run_check()
        self.assertEqual(len(check.errors), 1)
        self.assertIn("127.0.0.1:1", str(check.errors[0]))
        self.assertNotIn("s3cret", str(check.errors[0]))

    def test_unhealthy_mcp_servers_are_named(self):
        MCPServer.objects.create(
            name="ok", status="healthy", protocol="http", url="http://127.0.0.1:9/mcp"
        )
        MCPServer.objects.create(
            name="bad", status="unhealthy", protocol="http", url="http://127.0.0.1:9/mcp"
        )
        MCPServer.objects.create(
            name="off", status="vulnerable", protocol="http", url="http://127.0.0.1:9/mcp"
        )
        check = MCPServersHealthCheck()
        check.run_check()
        [error] = check.errors
        self.assertIn("unhealthy MCP servers: bad", str(error))
        self.assertFalse(check.critical_service)
