"""OAuth for MCP server rows, in real Nautobot, against a real OAuth-protected MCP server.

The server (``tests/mcp_servers/oauth_server.py``) registers clients dynamically, consents at
once like a person clicking "Allow", and checks PKCE and the redirect URI at its token endpoint.
The admin's browser is played by the Django test client (Nautobot's pages) and a plain HTTP
client (the authorization server's page).
"""

from __future__ import annotations

import os
import threading
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import httpx2
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse
from nautobot.extras.models import Secret

from aiops_nautobot.models import MCPServer, MCPServerToken, MCPTool
from aiops_nautobot.services.health import check_mcp_servers
from aiops_nautobot.services.mcp_servers import server_config
from aiops_nautobot.services.mcp_tokens import decrypt_record, has_tokens
from tests.mcp_servers.support import OAuthServer

from .engine_fixtures import memory_store, offline_model

UI = "plugins:aiops_nautobot"


def outside_transaction(operation: Any) -> None:
    """Run ``operation`` on its own connection (the engine writes tokens outside the test's
    transaction, so cleaning up must too)."""
    from django.db import connection

    def run() -> None:
        try:
            operation()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)


def forget_all_tokens() -> None:
    outside_transaction(lambda: MCPServerToken.objects.all().delete())


def oauth_row(server: OAuthServer, name: str = "secure", **values: Any) -> MCPServer:
    fields = {
        "protocol": "http",
        "url": server.url,
        "mcp_endpoint": "/mcp",
        "health_check": "",
        "oauth_grant": "authorization_code",
        **values,
    }
    return MCPServer.objects.create(name=name, **fields)


def consent(sign_in_url: str) -> str:
    """The admin's browser at the authorization server: it consents and is sent back."""
    response = httpx2.get(sign_in_url, follow_redirects=False, timeout=20)
    assert response.status_code in (302, 303, 307), response.text
    return response.headers["location"]


def connect(test: TestCase, row: MCPServer) -> list[str]:
    """Press Connect, consent, come back: the messages the admin sees."""
    url = reverse(f"{UI}:mcpserver_oauth_connect", kwargs={"pk": row.pk})
    response = test.client.post(url, secure=True)
    test.assertEqual(response.status_code, 302)
    sign_in = response["Location"]
    test.assertTrue(sign_in.startswith(f"{test.oauth.url}/authorize?"), sign_in)
    back = urlsplit(consent(sign_in))
    test.assertEqual((back.scheme, back.netloc), ("https", "testserver"))
    response = test.client.get(f"{back.path}?{back.query}", secure=True)
    test.assertEqual(response.status_code, 302)
    test.assertEqual(response["Location"], reverse(f"{UI}:mcpserver", kwargs={"pk": row.pk}))
    return [str(m) for m in get_messages(response.wsgi_request)]


def chat(test: TestCase, message: str = "who am I?") -> dict[str, Any]:
    url = reverse("plugins-api:aiops_nautobot-api:chat")
    response = test.client.post(url, {"message": message}, content_type="application/json")
    test.assertEqual(response.status_code, 200, response.content)
    return dict(response.json())


@memory_store
class MCPOAuthConnectTest(TestCase):
    """Connect, use, disconnect: the authorization-code grant end to end."""

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
        self.admin = get_user_model().objects.create_superuser(username="oauth-admin")
        self.client.force_login(self.admin)
        self.addCleanup(forget_all_tokens)

    def test_connect_stores_encrypted_tokens_that_the_chat_uses(self):
        row = oauth_row(self.oauth)
        self.assertEqual(connect(self, row), [f"Connected to {row.name}."])
        self.assertEqual(self.oauth.stats()["code_exchanges"], 1)

        stored = MCPServerToken.objects.get(key=row.config_name)
        record = decrypt_record(row.config_name, stored.ciphertext)
        access = record["tokens"]["access_token"]
        refresh = record["tokens"]["refresh_token"]
        client_id = record["client"]["client_id"]
        self.assertEqual(record["resource"], f"{self.oauth.url}/mcp")
        for secret in (access, refresh, client_id, "access_token"):
            self.assertNotIn(secret, stored.ciphertext)  # encrypted at rest
        self.assertNotIn(access, repr(stored) + str(stored))

        # A chat uses the protected server with the stored token, nobody signing in again.
        MCPServer.objects.filter(pk=row.pk).update(status="healthy")
        MCPTool.objects.create(server=row, name="whoami", access="read_only")  # past the catalog
        offline_model(call_tools=["whoami"])
        data = chat(self)
        [call] = data["tool_calls"]
        self.assertEqual(call["name"], "whoami")
        self.assertIn(client_id, call["result"])
        self.assertEqual(self.oauth.stats()["authorizations"], 1)

        # Disconnect deletes the tokens.
        url = reverse(f"{UI}:mcpserver_oauth_disconnect", kwargs={"pk": row.pk})
        response = self.client.post(url, secure=True)
        self.assertEqual(response.status_code, 302)
        self.assertFalse(MCPServerToken.objects.filter(key=row.config_name).exists())

    def test_a_server_nobody_connected_is_reported_as_needing_authorization(self):
        row = oauth_row(self.oauth, name="unconnected")
        report = check_mcp_servers(servers=[row.pk], rechecks=0)
        row.refresh_from_db()
        self.assertEqual(row.status, "unhealthy")
        self.assertIn("authorization required for server 'unconnected'", row.last_error)
        self.assertIn("authorization required", "\n".join(report.lines))

    def test_connected_the_health_check_finds_it_healthy(self):
        row = oauth_row(self.oauth, name="checked")
        connect(self, row)
        check_mcp_servers(servers=[row.pk], rechecks=0)
        row.refresh_from_db()
        self.assertEqual((row.status, row.last_error), ("healthy", ""))

    def test_the_detail_page_shows_connect_and_disconnect(self):
        row = oauth_row(self.oauth)
        response = self.client.get(reverse(f"{UI}:mcpserver", kwargs={"pk": row.pk}))
        self.assertContains(
            response, reverse(f"{UI}:mcpserver_oauth_connect", kwargs={"pk": row.pk})
        )
        self.assertContains(
            response, reverse(f"{UI}:mcpserver_oauth_disconnect", kwargs={"pk": row.pk})
        )
        plain = MCPServer.objects.create(name="plain", protocol="http", url=self.oauth.url)
        response = self.client.get(reverse(f"{UI}:mcpserver", kwargs={"pk": plain.pk}))
        self.assertNotContains(response, "oauth/connect")

    def test_a_refused_consent_is_reported_and_stores_nothing(self):
        denying = OAuthServer("--deny")
        denying.start()
        self.addCleanup(denying.stop)
        row = oauth_row(denying, name="denied")
        url = reverse(f"{UI}:mcpserver_oauth_connect", kwargs={"pk": row.pk})
        sign_in = self.client.post(url, secure=True)["Location"]
        back = urlsplit(consent(sign_in))
        response = self.client.get(f"{back.path}?{back.query}", secure=True)
        [message] = [str(m) for m in get_messages(response.wsgi_request)]
        self.assertIn("Could not connect", message)
        self.assertIn("the sign-in was refused (access_denied)", message)
        self.assertFalse(has_tokens(row.config_name))  # the client registration is kept


class MCPOAuthRowTest(TestCase):
    """A row's OAuth settings: validated on save, handed to the engine with the Secret's value."""

    def setUp(self):
        patcher = mock.patch.dict(os.environ, {"AIOPS_OAUTH_CC": "cc-secret-4711"})
        patcher.start()
        self.addCleanup(patcher.stop)
        self.secret = Secret.objects.create(
            name="cc", provider="environment-variable", parameters={"variable": "AIOPS_OAUTH_CC"}
        )

    def row(self, **values: Any) -> MCPServer:
        fields = {"protocol": "http", "url": "http://127.0.0.1:9", **values}
        return MCPServer(name="cc", **fields)

    def test_client_credentials_get_the_secret_or_the_private_key(self):
        row = self.row(
            oauth_grant="client_credentials",
            oauth_client_id="nautobot",
            oauth_secret=self.secret,
            oauth_scopes="mcp read",
        )
        row.full_clean()
        oauth = server_config(row).oauth
        self.assertEqual((oauth.grant, oauth.client_id, oauth.scope), row_values(row))
        self.assertEqual(oauth.client_secret.get_secret_value(), "cc-secret-4711")
        self.assertNotIn("cc-secret-4711", repr(server_config(row)))
        row.oauth_private_key = True
        oauth = server_config(row).oauth
        self.assertEqual(
            (oauth.private_key.get_secret_value(), oauth.client_secret), ("cc-secret-4711", None)
        )
        self.assertIsNone(server_config(self.row()).oauth)

    def test_incomplete_settings_are_refused_naming_the_field(self):
        cases = [
            ({"oauth_grant": "client_credentials", "oauth_secret": self.secret}, "oauth_client_id"),
            ({"oauth_grant": "client_credentials", "oauth_client_id": "x"}, "oauth_secret"),
            ({"oauth_grant": "authorization_code", "oauth_private_key": True}, "oauth_private_key"),
            ({"oauth_grant": "authorization_code", "protocol": "stdio"}, "oauth_grant"),
        ]
        for values, field in cases:
            with self.subTest(field=field):
                with self.assertRaises(ValidationError) as caught:
                    self.row(**values).full_clean()
                self.assertIn(field, caught.exception.message_dict)


def row_values(row: MCPServer) -> tuple[str, str, str]:
    return (row.oauth_grant, row.oauth_client_id, row.oauth_scopes)
