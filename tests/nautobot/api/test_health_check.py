"""``POST /api/plugins/ai-ops/mcp-servers/{id}/health-check/``."""

from __future__ import annotations

import socket

from django.urls import reverse
from nautobot.apps.testing import APITestCase
from nautobot.users.models import ObjectPermission

from aiops_nautobot.models import MCPServer


def unreachable_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


class HealthCheckActionTest(APITestCase):
    def url(self, server: MCPServer) -> str:
        return reverse(
            "plugins-api:aiops_nautobot-api:mcpserver-health-check", kwargs={"pk": server.pk}
        )

    def test_probes_now_and_stores_the_status(self):
        self.add_permissions("aiops_nautobot.change_mcpserver")
        server = MCPServer.objects.create(
            name="gone", status="healthy", protocol="http", url=unreachable_url()
        )
        response = self.client.post(self.url(server), format="json", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["status"], "unhealthy")
        self.assertTrue(response.json()["changed"])
        server.refresh_from_db()
        self.assertEqual(server.status, "unhealthy")
        self.assertNotEqual(server.last_error, "")

    def test_a_vulnerable_server_is_not_probed(self):
        self.add_permissions("aiops_nautobot.change_mcpserver")
        server = MCPServer.objects.create(
            name="off", status="vulnerable", protocol="http", url=unreachable_url()
        )
        response = self.client.post(self.url(server), format="json", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["status"], "vulnerable")
        self.assertTrue(response.json()["skipped"])

    def test_needs_the_change_permission(self):
        self.add_permissions("aiops_nautobot.view_mcpserver")
        server = MCPServer.objects.create(
            name="gone", status="healthy", protocol="http", url=unreachable_url()
        )
        response = self.client.post(self.url(server), format="json", **self.header)
        self.assertHttpStatus(response, 403)
        server.refresh_from_db()
        self.assertEqual(server.status, "healthy")

    def test_needs_the_change_permission_on_that_server(self):
        other = MCPServer.objects.create(name="other", protocol="http", url=unreachable_url())
        self.add_permissions("aiops_nautobot.change_mcpserver")
        ObjectPermission.objects.filter(users=self.user).update(constraints={"pk": str(other.pk)})
        server = MCPServer.objects.create(
            name="gone", status="healthy", protocol="http", url=unreachable_url()
        )
        response = self.client.post(self.url(server), format="json", **self.header)
        self.assertHttpStatus(response, 404)
        server.refresh_from_db()
        self.assertEqual(server.status, "healthy")
