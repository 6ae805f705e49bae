"""Attack 8: act with a read-only API token.

Before: ``chat/``, ``chat/approve/`` and the ``health-check/`` action replaced Nautobot's
permission classes and so ignored a token's ``write_enabled=False``.

Now: they refuse it (HTTP 403) like every other write endpoint: the chat views add a token rule
next to their own permission, the health-check action uses Nautobot's ``TokenPermissions``.
"""

from __future__ import annotations

from nautobot.users.models import Token

from aiops_nautobot.models import Conversation, MCPServer

from ..engine_fixtures import app_settings, offline_model
from .attacker import AttackTestCase, CaptureServer

CHAT = "aiops_nautobot.use_chat_conversation"


@app_settings(checkpoint_url="memory://")
class ReadOnlyTokenAttackTest(AttackTestCase):
    def setUp(self):
        super().setUp()
        token = Token.objects.create(user=self.user, write_enabled=False)
        self.read_only = {"HTTP_AUTHORIZATION": f"Token {token.key}"}

    def test_chat_is_refused(self):
        offline_model()
        self.add_permissions(CHAT)
        response = self.api_post("chat", {"message": "hi"}, header=self.read_only)
        self.assertHttpStatus(response, 403)
        self.assertIn("read-only", response.json()["detail"])
        self.assertFalse(Conversation.objects.exists())
        # The same request with the user's writable token is accepted.
        self.assertHttpStatus(self.api_post("chat", {"message": "hi"}), 200)

    def test_approve_is_refused(self):
        offline_model()
        self.add_permissions(CHAT)
        thread_id = self.api_post("chat", {"message": "hi"}).json()["thread_id"]
        body = {"thread_id": thread_id, "pause_id": "p-1", "approve": ["call_1"]}
        response = self.api_post("chat-approve", body, header=self.read_only)
        self.assertHttpStatus(response, 403)
        # With the writable token the request reaches the view (nothing awaits approval: 409).
        self.assertHttpStatus(self.api_post("chat-approve", body), 409)

    def test_health_check_is_refused(self):
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        with CaptureServer(status=200) as host:
            row = MCPServer.objects.create(name="tools", url=host.url)
            response = self.api_post("mcpserver-health-check", pk=row.pk, header=self.read_only)
            self.assertHttpStatus(response, 403)
            self.assertEqual(host.requests, [])
            row.refresh_from_db()
            self.assertEqual((row.status, row.last_checked), ("unhealthy", None))
            response = self.api_post("mcpserver-health-check", pk=row.pk)
            self.assertEqual(response.json()["status"], "healthy")

    def test_reading_stays_allowed(self):
        self.add_permissions("aiops_nautobot.view_mcpserver")
        response = self.client.get(self.api_url("mcpserver-list"), **self.read_only)
        self.assertHttpStatus(response, 200)
