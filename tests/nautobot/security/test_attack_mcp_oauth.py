"""Attack: use an MCP server's OAuth settings to leak a Secret, reach other hosts, or read tokens.

The attacker is a non-superuser with exactly the permissions each attack needs. The OAuth
server is the real OAuth-protected MCP server of ``tests/mcp_servers/oauth_server.py``.
"""

from __future__ import annotations

import os
from unittest import mock

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.urls import NoReverseMatch, reverse
from nautobot.extras.models import ObjectChange

from aiops_nautobot.models import MCPServer, MCPServerToken
from aiops_nautobot.services.mcp_connect import CACHE_PREFIX
from aiops_nautobot.services.mcp_tokens import DatabaseTokenStore
from tests.mcp_servers.support import OAuthServer

from ..engine_fixtures import app_settings
from ..test_mcp_oauth import forget_all_tokens
from .attacker import UI, AttackTestCase, env_secret

CLIENT_SECRET = "oauth-client-secret-4711-do-not-leak"
ACCESS = "at-attack-0123456789abcdef"
REFRESH = "rt-attack-0123456789abcdef"
LOCAL = ["http://127.0.0.1:*"]


@app_settings(checkpoint_url="memory://", allowed_urls={"mcp": LOCAL})
class MCPOAuthAttackTest(AttackTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.oauth = OAuthServer()
        cls.oauth.start()

    @classmethod
    def tearDownClass(cls):
        cls.oauth.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        patcher = mock.patch.dict(os.environ, {"AIOPS_ATTACK_OAUTH": CLIENT_SECRET})
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(forget_all_tokens)
        self.secret = env_secret("oauth-secret", "AIOPS_ATTACK_OAUTH")
        self.add_permissions("extras.view_secret")
        # The operator's row (no change context: trusted), using the secret.
        self.row = MCPServer.objects.create(
            name="secure",
            protocol="http",
            url=self.oauth.url,
            oauth_grant="client_credentials",
            oauth_client_id="nautobot",
            oauth_secret=self.secret,
        )

    # ------------------------------------------------------------------------ Secrets
    def test_binding_an_oauth_secret_the_user_can_only_view_is_refused(self):
        self.add_permissions("aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver")
        response = self.api_post(
            "mcpserver-list",
            {
                "name": "exfil",
                "url": self.oauth.url,
                "oauth_grant": "client_credentials",
                "oauth_client_id": "mine",
                "oauth_secret": self.secret.pk,
            },
        )
        self.assertRefused(response, "oauth_secret", "change permission")
        self.assertFalse(MCPServer.objects.filter(name="exfil").exists())

    def test_moving_a_server_with_an_oauth_secret_is_refused(self):
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        for change in ({"url": "http://127.0.0.1:9"}, {"oauth_client_id": "attacker"}):
            response = self.api_patch("mcpserver-detail", self.row.pk, change)
            self.assertRefused(response, "oauth_secret", "change permission")
        self.row.refresh_from_db()
        self.assertEqual((self.row.url, self.row.oauth_client_id), (self.oauth.url, "nautobot"))

    def test_who_may_change_the_secret_may_bind_it(self):
        self.add_permissions(
            "aiops_nautobot.add_mcpserver", "aiops_nautobot.view_mcpserver", "extras.change_secret"
        )
        response = self.api_post(
            "mcpserver-list",
            {
                "name": "allowed",
                "url": self.oauth.url,
                "oauth_grant": "client_credentials",
                "oauth_client_id": "mine",
                "oauth_secret": self.secret.pk,
            },
        )
        self.assertHttpStatus(response, 201)

    # ------------------------------------------------------------------------ OAuth URLs
    def test_oauth_urls_outside_the_policy_are_never_contacted(self):
        """The operator allows the MCP endpoint only: discovery on the same host is refused."""
        self.add_permissions("aiops_nautobot.change_mcpserver", "aiops_nautobot.view_mcpserver")
        MCPServer.objects.filter(pk=self.row.pk).update(
            oauth_grant="authorization_code", oauth_client_id="", oauth_secret=None
        )
        url = reverse(f"{UI}:mcpserver_oauth_connect", kwargs={"pk": self.row.pk})
        endpoints = [f"{self.oauth.url}/mcp", f"{self.oauth.url}/health"]
        with app_settings(allowed_urls={"mcp": endpoints}):
            response = self.ui.post(url, secure=True)
        self.assertEqual(response.status_code, 302)
        self.assertFalse(response["Location"].startswith(self.oauth.url))
        [message] = [str(m) for m in get_messages(response.wsgi_request)]
        self.assertIn("OAuth URL", message)
        self.assertIn("not an allowed destination", message)
        self.assertEqual(self.oauth.stats()["registrations"], 0)
        self.assertEqual(self.oauth.stats()["authorizations"], 0)

    # ------------------------------------------------------------------------ tokens
    def store_tokens(self):
        DatabaseTokenStore._set(
            self.row.config_name,
            {
                "resource": f"{self.oauth.url}/mcp",
                "tokens": {
                    "access_token": ACCESS,
                    "refresh_token": REFRESH,
                    "token_type": "Bearer",
                },
            },
        )

    def test_tokens_cannot_be_read_through_the_api_or_the_change_log(self):
        self.add_permissions("aiops_nautobot.view_mcpserver")
        self.store_tokens()
        stored = MCPServerToken.objects.get(key=self.row.config_name).ciphertext
        for response in (
            self.client.get(self.api_url("mcpserver-list"), **self.header),
            self.client.get(self.api_url("mcpserver-detail", self.row.pk), **self.header),
            self.ui.get(reverse(f"{UI}:mcpserver", kwargs={"pk": self.row.pk})),
        ):
            self.assertEqual(response.status_code, 200)
            for value in (ACCESS, REFRESH, stored, CLIENT_SECRET):
                self.assertNotIn(value, response.content.decode())
        with self.assertRaises(NoReverseMatch):
            self.api_url("mcpservertoken-list")
        for change in ObjectChange.objects.all():
            for value in (ACCESS, REFRESH, stored, CLIENT_SECRET):
                self.assertNotIn(value, str(change.object_data) + str(change.object_data_v2))

    def test_connect_and_disconnect_need_the_change_permission(self):
        self.add_permissions("aiops_nautobot.view_mcpserver")
        self.store_tokens()
        for view in ("mcpserver_oauth_connect", "mcpserver_oauth_disconnect"):
            response = self.ui.post(reverse(f"{UI}:{view}", kwargs={"pk": self.row.pk}))
            self.assertEqual(response.status_code, 404, view)
        self.assertTrue(MCPServerToken.objects.filter(key=self.row.config_name).exists())
        page = self.ui.get(reverse(f"{UI}:mcpserver", kwargs={"pk": self.row.pk}))
        self.assertNotContains(page, "oauth/disconnect")

    def test_another_user_cannot_finish_an_admins_sign_in(self):
        state = "state-of-the-admins-sign-in"
        cache.set(f"{CACHE_PREFIX}start:{state}", {"user": "someone-else", "server": "x"}, 60)
        self.addCleanup(cache.delete, f"{CACHE_PREFIX}start:{state}")
        url = reverse(f"{UI}:mcpserver_oauth_callback")
        response = self.ui.get(url, {"state": state, "code": "attackers-code"})
        [message] = [str(m) for m in get_messages(response.wsgi_request)]
        self.assertIn("started by another user", message)
        self.assertIsNone(cache.get(f"{CACHE_PREFIX}done:{state}"))
