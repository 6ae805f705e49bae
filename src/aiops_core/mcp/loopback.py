"""``LoopbackAuthorizer``: the browser step of OAuth for a command line (RFC 8252 loopback redirect).

It listens on the ``redirect_uri`` named in the authorization URL (always a 127.0.0.1 or
localhost address), shows the URL to the person (``open_url``: print it, or open a browser), and
waits until the authorization server sends the browser back with ``code`` and ``state``. The
browser gets a short page saying it may close; the listener then stops.
"""

from __future__ import annotations

import contextlib
import html
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import anyio
import anyio.abc

from ..errors import MCPAuthorizationError

if TYPE_CHECKING:
    from mcp.shared.auth import AuthorizationCodeResult

__all__ = ["LoopbackAuthorizer", "print_url"]

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>aiops</title></head>"
    "<body style='font-family:sans-serif'><h2>{title}</h2><p>{text}</p></body></html>"
)


async def print_url(server: str, url: str) -> None:
    """Ask the person to open ``url`` (the CLI's default ``open_url``)."""
    sys.stderr.write(
        f"\nMCP server {server!r} needs you to sign in. Open this URL in a browser:\n\n  {url}\n\n"
        "Waiting for the sign-in to finish...\n"
    )
    sys.stderr.flush()


class LoopbackAuthorizer:
    """An :class:`~aiops_core.mcp.auth.Authorizer` serving the OAuth callback on 127.0.0.1.

    Args:
        open_url: ``async (server, url)``: show the authorization URL to the person.
        timeout: seconds to wait for the browser to come back.
    """

    def __init__(
        self,
        open_url: Callable[[str, str], Awaitable[None]] = print_url,
        *,
        timeout: float = 300.0,
    ) -> None:
        self._open_url = open_url
        self._timeout = timeout
        self._lock = anyio.Lock()

    async def authorize(self, server: str, url: str) -> AuthorizationCodeResult:
        """Serve the callback, show ``url``, and return what the browser brought back."""
        query = parse_qs(urlparse(url).query)
        redirect = urlparse((query.get("redirect_uri") or [""])[0])
        if redirect.scheme != "http" or redirect.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise MCPAuthorizationError(
                server, "the redirect_uri must be a loopback http:// URL for a command-line sign-in"
            )
        host = "::1" if redirect.hostname == "::1" else "127.0.0.1"
        path = redirect.path or "/"
        # One sign-in at a time: the callback port is shared by every server.
        async with self._lock:
            try:
                listener = await anyio.create_tcp_listener(
                    local_host=host, local_port=redirect.port or 80
                )
            except OSError as err:
                raise MCPAuthorizationError(
                    server,
                    f"cannot listen for the sign-in callback on {host}:{redirect.port}: {err}",
                ) from err
            callback = _Callback(path)
            async with listener, anyio.create_task_group() as tg:
                tg.start_soon(listener.serve, callback.answer, tg)
                await self._open_url(server, url)
                with anyio.move_on_after(self._timeout) as waited:
                    await callback.done.wait()
                tg.cancel_scope.cancel()
            if waited.cancelled_caught:
                raise MCPAuthorizationError(
                    server, f"the sign-in did not finish within {self._timeout:.0f}s"
                )
        return _result(server, callback.query)


def _result(server: str, query: dict[str, list[str]]) -> AuthorizationCodeResult:
    from mcp.shared.auth import AuthorizationCodeResult

    def first(name: str) -> str | None:
        values = query.get(name)
        return values[0] if values else None

    error = first("error")
    if error:
        detail = first("error_description")
        raise MCPAuthorizationError(
            server, f"the sign-in was refused: {error}" + (f" ({detail})" if detail else "")
        )
    code = first("code")
    if not code:
        raise MCPAuthorizationError(server, "the sign-in callback carried no authorization code")
    return AuthorizationCodeResult(code=code, state=first("state"), iss=first("iss"))


class _Callback:
    """Answers the browser's requests; the first one on the callback path is the result."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.query: dict[str, list[str]] = {}
        self.done = anyio.Event()

    async def answer(self, stream: anyio.abc.ByteStream) -> None:
        """Read one HTTP request; answer the callback path with a page, anything else 404."""
        async with stream:
            await self._answer(stream)

    async def _answer(self, stream: anyio.abc.ByteStream) -> None:
        data = b""
        with anyio.move_on_after(10):
            while b"\r\n\r\n" not in data and len(data) < 16384:
                try:
                    data += await stream.receive(4096)
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    break
        parts = data.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        target = urlparse(parts[1]) if len(parts) == 3 and parts[0] == "GET" else None
        if target is None or target.path != self.path:
            await _send(stream, 404, "Not found", "This address only takes the sign-in callback.")
            return
        query = parse_qs(target.query)
        if "error" in query:
            await _send(stream, 200, "Sign-in refused", "You can close this window.")
        else:
            await _send(stream, 200, "Signed in", "You can close this window and go back.")
        if not self.done.is_set():
            self.query = query
            self.done.set()


async def _send(stream: anyio.abc.ByteStream, status: int, title: str, text: str) -> None:
    body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
    reason = "OK" if status == 200 else "Not Found"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n"
    )
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        await stream.send(head.encode() + body)
