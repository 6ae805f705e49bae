"""OAuth through the pool against a real OAuth-protected MCP server (the SDK's server auth).

The server (``tests/mcp_servers/oauth_server.py``) registers clients dynamically, consents at once
(like a person clicking "Allow"), issues expiring tokens with refresh tokens, and counts what it
did at ``/stats``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from tests.mcp_servers.support import FAST, HttpServer, OAuthServer, browser, rsa_key_pair

from aiops_core.errors import MCPAuthorizationError
from aiops_core.mcp import FileTokenStore, LoopbackAuthorizer, MCPClientPool, MemoryTokenStore

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def oauth_server() -> Iterator[OAuthServer]:
    server = OAuthServer()
    server.start()
    yield server
    server.stop()


def pool(config, **options) -> MCPClientPool:
    return MCPClientPool([config], ping_interval=None, **{**FAST, **options})


async def test_sign_in_then_reuse_the_stored_tokens(
    oauth_server: OAuthServer, tmp_path: Path, caplog
):
    caplog.set_level(logging.DEBUG)
    store = FileTokenStore(tmp_path / "tokens.json")
    config = oauth_server.config()
    async with pool(config, token_store=store, authorizer=LoopbackAuthorizer(browser)) as first:
        assert first.session("secure").healthy, first.status()
        client_id = (await first.call_tool("secure", "whoami", {})).content[0].text
    record = json.loads((tmp_path / "tokens.json").read_text())["secure"]
    assert record["resource"] == f"{oauth_server.url}/mcp"
    assert record["client"]["client_id"] == client_id  # registered dynamically
    assert record["tokens"]["access_token"] and record["tokens"]["refresh_token"]
    assert oauth_server.stats()["authorizations"] == 1

    # A later process: the stored tokens work without anybody signing in.
    async with pool(config, token_store=store) as second:
        assert second.session("secure").healthy, second.status()
        assert (await second.call_tool("secure", "whoami", {})).content[0].text == client_id
    assert oauth_server.stats()["authorizations"] == 1

    # Tokens never reach the logs.
    for secret in (record["tokens"]["access_token"], record["tokens"]["refresh_token"]):
        assert secret not in caplog.text


async def test_an_expired_stored_token_is_refreshed_not_signed_in_again(tmp_path: Path):
    server = OAuthServer("--expires-in", "2")
    server.start()
    try:
        store = FileTokenStore(tmp_path / "tokens.json")
        config = server.config()
        async with pool(config, token_store=store, authorizer=LoopbackAuthorizer(browser)) as p:
            assert p.session("secure").healthy
        await anyio.sleep(2.5)
        async with pool(config, token_store=store) as later:  # nobody could sign in now
            assert later.session("secure").healthy, later.status()
        stats = server.stats()
    finally:
        server.stop()
    assert (stats["authorizations"], stats["refreshes"]) == (1, 1)


async def test_without_a_sign_in_the_server_reports_authorization_required(oauth_server):
    async with pool(oauth_server.config(), token_store=MemoryTokenStore()) as p:
        (status,) = p.status()
        assert status.auth_required
        assert status.last_error.startswith("authorization required for server 'secure'")
        assert "aiops mcp login secure" in status.last_error
        with pytest.raises(
            MCPAuthorizationError, match="authorization required for server 'secure'"
        ):
            await p.call_tool("secure", "whoami", {})
    assert oauth_server.stats()["authorizations"] == 0


async def test_a_refused_sign_in_is_reported_as_such(tmp_path: Path):
    server = OAuthServer("--deny")
    server.start()
    try:
        config = server.config()
        async with pool(config, authorizer=LoopbackAuthorizer(browser, timeout=10)) as p:
            (status,) = p.status()
    finally:
        server.stop()
    assert status.auth_required
    assert "authorization required for server 'secure'" in status.last_error
    assert "access_denied" in status.last_error


async def test_a_401_without_oauth_settings_says_authorization_required():
    server = HttpServer(token="right")
    server.start()
    try:
        async with MCPClientPool([server.config(health_check=None)], **FAST) as p:
            (status,) = p.status()
    finally:
        server.stop()
    assert status.auth_required
    assert status.last_error == (
        "authorization required for server 'web': the server answered HTTP 401; "
        "configure 'oauth' (or 'auth_token') for it"
    )


async def test_an_outbound_url_check_sees_and_can_refuse_the_oauth_flows_requests(oauth_server):
    seen: list[str] = []

    def check(url: str) -> None:
        seen.append(url)
        if "/register" in url:
            raise PermissionError(f"{url} is not an allowed destination")

    async with pool(oauth_server.config(), oauth_url_check=check) as p:
        (status,) = p.status()
    base = oauth_server.url
    assert seen == [
        f"{base}/.well-known/oauth-protected-resource/mcp",
        f"{base}/.well-known/oauth-authorization-server",
        f"{base}/register",
    ]
    assert status.auth_required
    assert f"PermissionError: {base}/register is not an allowed destination" in status.last_error
    assert oauth_server.stats()["registrations"] == 0


async def test_a_slow_person_is_not_a_handshake_timeout(oauth_server):
    async def slow_browser(server: str, url: str) -> None:
        await anyio.sleep(2.5)  # longer than the startup timeout below
        await browser(server, url)

    options = {**FAST, "startup_timeout": 1.0}
    async with MCPClientPool(
        [oauth_server.config()], authorizer=LoopbackAuthorizer(slow_browser), **options
    ) as p:
        assert p.session("secure").healthy, p.status()


async def test_health_checks_use_stored_tokens_and_name_a_missing_sign_in(oauth_server, tmp_path):
    from aiops_core.mcp import check_health

    store = FileTokenStore(tmp_path / "tokens.json")
    config = oauth_server.config()
    unsigned = await check_health([config], token_store=store, rechecks=0)
    (result,) = unsigned.results
    assert result.status == "unhealthy"
    assert result.error == (
        "authorization required for server 'secure': the server wants a person to sign in and "
        "no sign-in is possible here (CLI: run `aiops mcp login secure`)"
    )
    async with pool(config, token_store=store, authorizer=LoopbackAuthorizer(browser)):
        pass  # signed in once; the tokens are in the store now
    signed = await check_health([config], token_store=store, rechecks=0)
    assert signed.results[0].status == "healthy", signed.results[0].error
    without = await check_health([config], rechecks=0)  # no store: no token to show
    assert without.results[0].error.startswith("authorization required for server 'secure'")


# ---------------------------------------------------------------- client-credentials grant
CLIENT_SECRET = "cc-secret-4711-never-shown"


@pytest.fixture
def machine_server(tmp_path: Path) -> Iterator[tuple[OAuthServer, str]]:
    """The OAuth server with a secret client ``robot`` and a private-key client ``signer``."""
    private, public = rsa_key_pair(tmp_path)
    server = OAuthServer("--client", f"robot={CLIENT_SECRET}", "--key-client", f"signer={public}")
    server.start()
    yield server, private
    server.stop()


def machine_config(server: OAuthServer, **oauth) -> object:
    return server.config(grant="client_credentials", issuer=server.url, **oauth)


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_client_credentials_with_a_secret_call_tools_unattended(
    machine_server, method, caplog
):
    caplog.set_level(logging.DEBUG)
    server, _ = machine_server
    store = MemoryTokenStore()
    config = machine_config(
        server, client_id="robot", client_secret=CLIENT_SECRET, token_endpoint_auth_method=method
    )
    async with pool(config, token_store=store) as p:  # no authorizer: nobody could sign in
        assert p.session("secure").healthy, p.status()
        assert (await p.call_tool("secure", "whoami", {})).content[0].text == "robot"
    stats = server.stats()
    assert (stats["client_credentials"], stats["authorizations"], stats["registrations"]) == (
        1,
        0,
        0,
    )
    record = await store.get("secure")
    assert record["tokens"]["access_token"].startswith("at-")
    assert "refresh_token" not in record["tokens"] or not record["tokens"]["refresh_token"]
    assert CLIENT_SECRET not in caplog.text + repr(config) + repr(p)


async def test_client_credentials_with_a_private_key_jwt(machine_server, caplog):
    caplog.set_level(logging.DEBUG)
    server, private = machine_server
    config = machine_config(server, client_id="signer", private_key=private)
    async with pool(config, token_store=MemoryTokenStore()) as p:
        assert p.session("secure").healthy, p.status()
        assert (await p.call_tool("secure", "whoami", {})).content[0].text == "signer"
    assert server.stats()["client_credentials"] == 1
    assert "PRIVATE KEY" not in caplog.text + repr(config)


async def test_a_key_the_server_does_not_know_is_refused(machine_server, tmp_path: Path):
    server, _ = machine_server
    (tmp_path / "stranger").mkdir()
    stranger, _ = rsa_key_pair(tmp_path / "stranger")  # not the registered key
    config = machine_config(server, client_id="signer", private_key=stranger)
    async with pool(config, token_store=MemoryTokenStore()) as p:
        (status,) = p.status()
    assert status.auth_required
    assert status.last_error.startswith("authorization required for server 'secure'")
    assert status.last_error.endswith("check its client_id and private_key")
    assert "BEGIN" not in status.last_error
    assert (server.stats()["client_credentials"], server.stats()["client_auth_failures"]) == (0, 1)


async def test_a_wrong_secret_says_authorization_failed_and_never_shows_the_secret(
    machine_server, caplog
):
    caplog.set_level(logging.DEBUG)
    server, _ = machine_server
    wrong = "wrong-secret-0815-never-shown"
    config = machine_config(server, client_id="robot", client_secret=wrong)
    async with pool(config, token_store=MemoryTokenStore()) as p:
        (status,) = p.status()
        with pytest.raises(MCPAuthorizationError) as caught:
            await p.call_tool("secure", "whoami", {})
    assert status.auth_required
    assert status.last_error.startswith("authorization required for server 'secure'")
    assert status.last_error.startswith(
        "authorization required for server 'secure': the authorization server did not grant "
        "client 'robot' a token ("
    )
    assert "invalid_client" in status.last_error  # what the server said
    assert status.last_error.endswith("check its client_id and client_secret")
    assert server.stats()["client_auth_failures"] >= 1
    assert server.stats()["client_credentials"] == 0
    shown = caplog.text + status.last_error + str(caught.value) + repr(caught.value) + repr(p)
    assert wrong not in shown
    assert CLIENT_SECRET not in shown


async def test_health_checks_get_their_own_client_credentials_token(machine_server):
    from aiops_core.mcp import check_health

    server, _ = machine_server
    good = machine_config(server, client_id="robot", client_secret=CLIENT_SECRET)
    bad = machine_config(server, name="wrong", client_id="robot", client_secret="nope-0815")
    summary = await check_health([good, bad], token_store=MemoryTokenStore(), rechecks=0)
    healthy, refused = summary.results
    assert (healthy.status, healthy.error) == ("healthy", None)
    assert refused.status == "unhealthy"
    assert refused.error.startswith(
        "authorization required for server 'wrong': the authorization server did not grant "
        "client 'robot' a token"
    )
    assert "nope-0815" not in refused.error
