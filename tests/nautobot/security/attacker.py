"""What the attack tests share: the attacker's session, a capture server, a marker file.

Each attack module is written as the attacker: the test user of Nautobot's base classes, who is
*not* a superuser, given exactly the object permissions the attack needs, acting through the
REST API (token header) and the UI forms (logged-in session). Every test then proves that nothing
ran (a marker file a would-be command creates never appears), nothing left the machine (a
:class:`CaptureServer` on 127.0.0.1 received no token or secret), and nothing changed (rows are
read again from the database).
"""

from __future__ import annotations

import socket
import tempfile
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.test import Client
from django.urls import reverse
from nautobot.apps.testing import APITestCase, APITransactionTestCase
from nautobot.extras.models import Secret

__all__ = [
    "BANNER",
    "AttackTestCase",
    "AttackTransactionTestCase",
    "CaptureServer",
    "GarbageServer",
    "Recorded",
    "env_secret",
]

BANNER = "BANNER-of-the-answering-host-7f3a"
"""What the capture server answers with, in its body and a header: must never be echoed."""

API = "plugins-api:aiops_nautobot-api"
UI = "plugins:aiops_nautobot"


@dataclass(frozen=True)
class Recorded:
    """One request the capture server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def carries(self, value: str) -> bool:
        """Whether ``value`` appears anywhere in the request (headers or body)."""
        text = " ".join(f"{k}: {v}" for k, v in self.headers.items())
        return value in text or value.encode() in self.body


class CaptureServer:
    """An HTTP server on 127.0.0.1 that records every request and answers ``status`` + BANNER."""

    def __init__(self, status: int = 500) -> None:
        self.status = status
        self.requests: list[Recorded] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.requests.append(Recorded(self.command, self.path, headers, body))
                payload = f'{{"error": "{BANNER}"}}'.encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Banner", BANNER)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def carrying(self, value: str) -> list[Recorded]:
        """The requests that carried ``value``."""
        return [r for r in self.requests if r.carries(value)]

    def __enter__(self) -> CaptureServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class GarbageServer:
    """A TCP server on 127.0.0.1 that answers any connection with BANNER instead of HTTP."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                    conn.sendall(f"{BANNER} 200 OK\r\nX-Banner: {BANNER}\r\n\r\n".encode())
                except OSError:
                    pass

    def __enter__(self) -> GarbageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def env_secret(name: str, variable: str) -> Secret:
    """A Secret read from an environment variable (the test sets the variable)."""
    return Secret.objects.create(
        name=name, provider="environment-variable", parameters={"variable": variable}
    )


class AttackMixin:
    """The attacker: Nautobot's non-superuser test user, with a token and a UI session."""

    def setUp(self) -> None:
        super().setUp()
        if self.user.is_superuser:  # Nautobot's API transaction test case makes one
            self.user.is_superuser = False
            self.user.save()
        self.assertFalse(self.user.is_superuser)
        # The UI forms get a session client of their own; the API client stays token-only, as
        # a script's would (a session would authenticate API calls before any token).
        self.ui = Client()
        self.ui.force_login(self.user)
        self.marker = Path(tempfile.mkdtemp(prefix="aiops-attack-")) / "pwned"

    def tearDown(self) -> None:
        self.marker.unlink(missing_ok=True)
        self.marker.parent.rmdir()
        super().tearDown()

    # ------------------------------------------------------------------------ REST API
    def api_url(self, name: str, pk: Any = None) -> str:
        kwargs = {"pk": pk} if pk is not None else {}
        return reverse(f"{API}:{name}", kwargs=kwargs)

    def api_post(self, name: str, data: Any = None, pk: Any = None, header: Any = None) -> Any:
        url = self.api_url(name, pk)
        return self.client.post(url, data, format="json", **(header or self.header))

    def api_patch(self, name: str, pk: Any, data: dict[str, Any]) -> Any:
        return self.client.patch(self.api_url(name, pk), data, format="json", **self.header)

    # ------------------------------------------------------------------------ UI forms
    def form_post(self, view: str, data: dict[str, Any], pk: Any = None) -> Any:
        """Submit a UI form (``mcpserver_add``, ``llmmodel_edit``...) as the logged-in user."""
        kwargs = {"pk": pk} if pk is not None else {}
        return self.ui.post(reverse(f"{UI}:{view}", kwargs=kwargs), data)

    def assertFormRefused(self, response: Any, *phrases: str) -> None:
        """A form that was not saved: the page is shown again (200) with the errors."""
        self.assertEqual(response.status_code, 200, "the form was accepted")
        form = response.context["form"]
        errors = " ".join(str(e) for messages in form.errors.values() for e in messages)
        self.assertTrue(errors, "the form has no errors")
        for phrase in phrases:
            self.assertIn(phrase, errors)

    def assertRefused(self, response: Any, field: str, *phrases: str) -> None:
        """An API answer of 400 with an error on ``field`` containing every phrase."""
        self.assertHttpStatus(response, 400)
        text = " ".join(str(m) for m in response.json().get(field, []))
        self.assertTrue(text, f"no error on {field!r}: {response.json()}")
        for phrase in phrases:
            self.assertIn(phrase, text)

    def victim(self, username: str = "victim") -> tuple[Any, dict[str, str]]:
        """Another user who may chat (an ObjectPermission ``chat``), and their token header."""
        from django.contrib.auth import get_user_model
        from django.contrib.contenttypes.models import ContentType
        from nautobot.users.models import ObjectPermission, Token

        from aiops_nautobot.models import Conversation

        user = get_user_model().objects.create_user(username=username)
        permission = ObjectPermission.objects.create(name="chat", actions=["use_chat"])
        permission.object_types.add(ContentType.objects.get_for_model(Conversation))
        permission.users.add(user)
        return user, {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}

    def assertNothingRan(self) -> None:
        self.assertFalse(self.marker.exists(), "the would-be command ran")


class AttackTestCase(AttackMixin, APITestCase):
    """An attack inside one test transaction (the usual case)."""


class AttackTransactionTestCase(AttackMixin, APITransactionTestCase):
    """An attack with concurrent requests: each thread has its own database connection."""
