"""Configured MCP secrets (header values, the auth token) never reach an error or ``last_error``.

A value read from a Secret keeps a trailing newline; the HTTP layer then refuses it as an illegal
header value and quotes it (escaped) in its error, which becomes the server's ``last_error``.
"""

from __future__ import annotations

import pytest
from tests.mcp_servers.support import FAST, HttpServer

from aiops_core.mcp import MCPClientPool, MCPServerConfig, check_health

pytestmark = pytest.mark.anyio

HEADER = "hdr-value-4711\n"
TOKEN = "tok-secret-0815\n"


def leaky(server: HttpServer, **extra: object) -> MCPServerConfig:
    return server.config(headers={"X-Tenant-Key": HEADER}, auth_token=TOKEN, **extra)


def assert_hidden(text: str | None) -> None:
    assert text, "the failure should be described"
    assert "hdr-value-4711" not in text and "tok-secret-0815" not in text, text


@pytest.mark.parametrize("health_check", ["/health", None])
async def test_health_probe_errors_hide_header_values_and_the_token(
    http_server: HttpServer, health_check: str | None
) -> None:
    config = leaky(http_server, health_check=health_check)
    summary = await check_health([config], probe_timeout=5.0)
    (result,) = summary.results
    assert result.status == "unhealthy"
    assert_hidden(result.error)


async def test_session_last_error_hides_header_values_and_the_token(
    http_server: HttpServer,
) -> None:
    async with MCPClientPool([leaky(http_server)], **FAST) as pool:
        # Opening the pool waits for each server's first connection attempt.
        assert_hidden(pool.session("web").last_error)
        assert_hidden(pool.status()[0].last_error)


def test_scrub_covers_every_header_value_whatever_its_name() -> None:
    config = MCPServerConfig(
        name="n",
        transport="http",
        url="http://127.0.0.1:9",
        headers={"X-Tenant": "tenant-secret-1"},
        auth_token="tok-2222",
    )
    text = config.scrub("sent tenant-secret-1 and 'Bearer tok-2222' to the server")
    assert "tenant-secret-1" not in text and "tok-2222" not in text
