"""LoopbackAuthorizer: the OAuth callback served on 127.0.0.1 for a command-line sign-in."""

from __future__ import annotations

from urllib.parse import urlencode

import anyio
import httpx2
import pytest
from tests.mcp_servers.support import free_port

from aiops_core.errors import MCPAuthorizationError
from aiops_core.mcp import LoopbackAuthorizer

pytestmark = pytest.mark.anyio


def authorization_url(port: int, host: str = "127.0.0.1") -> str:
    query = urlencode({"redirect_uri": f"http://{host}:{port}/callback", "state": "s1"})
    return f"https://as.example/authorize?{query}"


def browser_returning(params: dict[str, str], *, also_visit: str | None = None):
    """A browser that comes back to the callback with ``params`` (after an unrelated request)."""
    pages: list[tuple[int, str]] = []

    async def open_url(server: str, url: str) -> None:
        redirect = dict(httpx2.URL(url).params)["redirect_uri"]
        async with httpx2.AsyncClient() as client:
            if also_visit:
                page = await client.get(redirect.replace("/callback", also_visit))
                pages.append((page.status_code, page.text))
            page = await client.get(redirect, params=params)
            pages.append((page.status_code, page.text))

    return open_url, pages


async def test_the_callback_brings_back_code_state_and_issuer():
    open_url, pages = browser_returning(
        {"code": "abc", "state": "s1", "iss": "https://as.example"}, also_visit="/favicon.ico"
    )
    result = await LoopbackAuthorizer(open_url, timeout=10).authorize(
        "srv", authorization_url(free_port())
    )
    assert (result.code, result.state, result.iss) == ("abc", "s1", "https://as.example")
    assert [status for status, _ in pages] == [404, 200]
    assert "You can close this window" in pages[1][1]


async def test_a_refused_sign_in_is_an_authorization_error():
    open_url, _ = browser_returning({"error": "access_denied", "error_description": "no"})
    with pytest.raises(MCPAuthorizationError, match=r"refused: access_denied \(no\)"):
        await LoopbackAuthorizer(open_url, timeout=10).authorize(
            "srv", authorization_url(free_port())
        )


async def test_a_person_who_never_comes_back_times_out():
    async def nobody(server: str, url: str) -> None:
        return None

    with pytest.raises(MCPAuthorizationError, match="did not finish within 1s"):
        await LoopbackAuthorizer(nobody, timeout=1).authorize("srv", authorization_url(free_port()))


async def test_only_loopback_redirects_are_served():
    async def never(server: str, url: str) -> None:  # pragma: no cover - must not be called
        raise AssertionError("must not open")

    url = "https://as.example/authorize?" + urlencode({"redirect_uri": "https://app.example/cb"})
    with pytest.raises(MCPAuthorizationError, match="loopback"):
        await LoopbackAuthorizer(never).authorize("srv", url)


async def test_a_busy_port_is_reported():
    port = free_port()
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=port)
    async with listener:

        async def never(server: str, url: str) -> None:  # pragma: no cover
            raise AssertionError("must not open")

        with pytest.raises(MCPAuthorizationError, match=f"cannot listen .* 127.0.0.1:{port}"):
            await LoopbackAuthorizer(never).authorize("srv", authorization_url(port))
