"""OAuth for MCP server rows, in real Nautobot, against a real OAuth-protected MCP server.

The server (``tests/mcp_servers/oauth_server.py``) registers clients dynamically, consents at
once like a person clicking "Allow", and checks PKCE and the redirect URI at its token endpoint.
The admin's browser is played by the Django test client (Nautobot's pages) and a plain HTTP
client (the authorization server's page).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import httpx2
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse
from nautobot.extras.models import Secret
from nautobot.users.models import ObjectPermission

from aiops_nautobot.models import Conversation, MCPServer, MCPServerToken, MCPTool
from aiops_nautobot.services.engine_loop import get_engine_loop
from aiops_nautobot.services.health import check_mcp_servers
from aiops_nautobot.services.mcp_pools import drop_pools
from aiops_nautobot.services.mcp_servers import server_config
from aiops_nautobot.services.mcp_tokens import decrypt_record, has_tokens
from tests.mcp_servers.support import OAuthServer, rsa_key_pair

from .engine_fixtures import app_settings, memory_store, offline_model
from .security.attacker import env_secret

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


CLIENT_SECRET = "cc-nautobot-secret-4711-never-shown"


@app_settings(checkpoint_url="memory://", allowed_urls={"mcp": ["http://127.0.0.1:*"]})
class MCPOAuthClientCredentialsTest(TestCase):
    """The client-credentials grant end to end: no Connect button, nobody signing in.

    The OAuth server knows client ``nautobot`` by its secret and client ``signer`` by the public
    key of :attr:`private_key` (``private_key_jwt``).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keys = Path(tempfile.mkdtemp(prefix="aiops-cc-"))
        cls.private_key, public = rsa_key_pair(cls.keys)
        cls.oauth = OAuthServer(
            "--client", f"nautobot={CLIENT_SECRET}", "--key-client", f"signer={public}"
        )
        cls.oauth.start()

    @classmethod
    def tearDownClass(cls):
        cls.oauth.stop()
        shutil.rmtree(cls.keys)
        super().tearDownClass()

    def setUp(self):
        self.addCleanup(close_mcp_pools)  # this test's servers go away with it
        patcher = mock.patch.dict(
            os.environ,
            {"AIOPS_TEST_OAUTH_CC": CLIENT_SECRET, "AIOPS_TEST_OAUTH_KEY": self.private_key},
        )
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(forget_all_tokens)
        self.chatter = get_user_model().objects.create_user(username="cc-chatter")
        permission = ObjectPermission.objects.create(name="chat", actions=["use_chat"])
        permission.object_types.add(ContentType.objects.get_for_model(Conversation))
        permission.users.add(self.chatter)
        self.client.force_login(self.chatter)

    def add_server(
        self, secret: Secret, name: str = "machine", client_id: str = "nautobot", **values: Any
    ) -> MCPServer:
        """The admin's row: client credentials, the secret in a Nautobot Secret; the admin marks
        ``whoami`` read-only in the catalog (past its review) before any use."""
        row = oauth_row(
            self.oauth,
            name=name,
            health_check="/health",
            oauth_grant="client_credentials",
            oauth_client_id=client_id,
            oauth_secret=secret,
            **values,
        )
        row.full_clean()
        MCPTool.objects.create(server=row, name="whoami", access="read_only")
        return row

    def chat_as_user(self) -> Any:
        offline_model(call_tools=["whoami"])
        self.assertFalse(self.chatter.is_superuser)
        return self.client.post(
            reverse("plugins-api:aiops_nautobot-api:chat"),
            {"message": "who am I?"},
            content_type="application/json",
        )

    def grants(self, before: dict[str, int]) -> dict[str, int]:
        """What the OAuth server did since ``before``."""
        return {key: value - before[key] for key, value in self.oauth.stats().items()}

    def test_a_chat_calls_the_server_unattended_with_an_encrypted_token(self):
        row = self.add_server(env_secret("mcp-client-secret", "AIOPS_TEST_OAUTH_CC"))
        self.assert_unattended(row, "nautobot", CLIENT_SECRET)

    def test_a_private_key_client_works_the_same(self):
        row = self.add_server(
            env_secret("mcp-client-key", "AIOPS_TEST_OAUTH_KEY"),
            client_id="signer",
            oauth_private_key=True,
        )
        self.assert_unattended(row, "signer", self.private_key)

    def assert_unattended(self, row: MCPServer, client_id: str, secret: str) -> None:
        # The health check finds the server healthy and, listing its tools for the catalog,
        # gets a token of its own.
        before = self.oauth.stats()
        check_mcp_servers(servers=[row.pk], rechecks=0)
        row.refresh_from_db()
        self.assertEqual((row.status, row.last_error), ("healthy", ""))
        self.assertEqual(self.grants(before)["client_credentials"], 1)
        self.assertTrue(has_tokens(row.config_name))
        forget_all_tokens()

        # A non-superuser's chat turn gets a token and calls the protected tool; nobody
        # connects or signs in.
        before = self.oauth.stats()
        with captured_logs() as logs:
            response = self.chat_as_user()
        self.assertEqual(response.status_code, 200, response.content)
        [call] = response.json()["tool_calls"]
        self.assertEqual(call["name"], "whoami")
        self.assertEqual(call["result"].strip(), client_id)
        done = self.grants(before)
        self.assertEqual(done["client_credentials"], 1)
        self.assertEqual((done["authorizations"], done["registrations"]), (0, 0))
        self.assertEqual(done["client_auth_failures"], 0)

        # The token is in the app's table, encrypted; neither it nor the secret shows anywhere.
        stored = MCPServerToken.objects.get(key=row.config_name)
        record = decrypt_record(row.config_name, stored.ciphertext)
        access = record["tokens"]["access_token"]
        self.assertTrue(access.startswith("at-"))
        self.assertEqual(record["resource"], f"{self.oauth.url}/mcp")
        for value in (access, "access_token", secret):
            self.assertNotIn(value, stored.ciphertext)
        shown = response.content.decode() + "\n".join(logs) + repr(stored) + str(stored)
        for value in (access, *[line for line in secret.splitlines() if len(line) > 16]):
            self.assertNotIn(value, shown)  # a PEM's lines one by one too

    def test_a_wrong_secret_leaves_the_server_out_naming_the_client_not_the_secret(self):
        wrong = "wrong-0815-never-shown"
        before = self.oauth.stats()
        with mock.patch.dict(os.environ, {"AIOPS_TEST_OAUTH_WRONG": wrong}):
            row = self.add_server(env_secret("wrong-secret", "AIOPS_TEST_OAUTH_WRONG"), "wrong")
            MCPServer.objects.filter(pk=row.pk).update(status="healthy")
            with captured_logs() as logs:
                response = self.chat_as_user()
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["tool_calls"], [])  # the turn goes on without it
        refused = [line for line in logs if "authorization required for server 'wrong'" in line]
        self.assertTrue(refused, logs)
        self.assertIn(
            "the authorization server did not grant client 'nautobot' a token", refused[0]
        )
        self.assertIn("check its client_id and client_secret", refused[0])
        self.assertNotIn(wrong, response.content.decode() + "\n".join(logs))
        self.assertFalse(has_tokens(row.config_name))
        self.assertGreaterEqual(self.grants(before)["client_auth_failures"], 1)
        self.assertEqual(self.grants(before)["client_credentials"], 0)


def close_mcp_pools() -> None:
    """Close the engine loop's MCP pools (they would keep reconnecting to a stopped server)."""
    engine = get_engine_loop()
    engine.run(drop_pools(engine), timeout=30)


@contextlib.contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every log line of every logger, formatted, while the block runs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler, root = Collect(logging.DEBUG), logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


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
