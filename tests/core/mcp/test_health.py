"""check_health: HTTP health endpoints, MCP pings over stdio, confirmed changes, concurrency."""

from __future__ import annotations

import anyio
import httpx2
import pytest
from tests.mcp_servers.support import FAST, stdio_config

from aiops_core.mcp import MCPClientPool, MCPServerConfig, check_health, probe

pytestmark = pytest.mark.anyio

QUICK = {"recheck_delay": 0.05, "probe_timeout": 3.0}


def web(name: str, url: str = "http://127.0.0.1:9", **extra) -> MCPServerConfig:
    return MCPServerConfig(name=name, transport="http", url=url, **extra)


def scripted(*statuses: int) -> tuple[httpx2.AsyncClient, list[str]]:
    """A client whose health endpoint answers the given statuses in turn."""
    seen: list[str] = []
    answers = iter(statuses)

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(str(request.url))
        return httpx2.Response(next(answers))

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handler)), seen


async def test_a_healthy_http_server_is_checked_with_get_health(http_server):
    summary = await check_health([http_server.config()], current={"web": "Healthy"}, **QUICK)
    assert (summary.checked, summary.changed, summary.failed, summary.cache_cleared) == (
        1,
        0,
        0,
        False,
    )
    (result,) = summary.results
    assert (result.name, result.status, result.previous, result.error) == (
        "web",
        "healthy",
        "healthy",
        None,
    )


async def test_a_confirmed_outage_is_reported_and_clears_the_pool_cache(http_server):
    config = http_server.config()
    async with MCPClientPool([config], **FAST) as pool:
        http_server.stop()
        summary = await check_health([config], current={"web": "healthy"}, pool=pool, **QUICK)
    assert (summary.checked, summary.changed, summary.failed, summary.cache_cleared) == (
        1,
        1,
        1,
        True,
    )
    assert summary.results[0].status == "unhealthy"
    assert "ConnectError" in (summary.results[0].error or "")
    assert summary.as_dict()["results"][0]["changed"] is True


async def test_a_change_not_seen_again_on_the_rechecks_is_not_reported():
    client, seen = scripted(503, 200)
    async with client:
        summary = await check_health(
            [web("flappy")], current={"flappy": "healthy"}, http_client=client, **QUICK
        )
    assert len(seen) == 2 and seen[0] == "http://127.0.0.1:9/health"
    assert (summary.changed, summary.failed) == (0, 0)
    assert summary.results[0].status == "healthy"


async def test_recovery_is_confirmed_by_every_recheck():
    client, seen = scripted(200, 200, 200)
    async with client:
        summary = await check_health(
            [web("back")], current={"back": "unhealthy"}, http_client=client, rechecks=2, **QUICK
        )
    assert len(seen) == 3
    assert summary.results[0].changed and summary.results[0].status == "healthy"


async def test_unknown_previous_status_is_reported_as_seen_without_rechecks():
    client, seen = scripted(500)
    async with client:
        summary = await check_health([web("new")], http_client=client, **QUICK)
    assert len(seen) == 1
    assert summary.results[0].status == "unhealthy"
    assert summary.results[0].error == "GET /health answered HTTP 500"
    assert (summary.changed, summary.failed) == (0, 1)


async def test_stdio_servers_are_checked_with_an_mcp_ping(mode_file):
    assert await probe(stdio_config("ok", mode_file), probe_timeout=5) is None
    mode_file.write_text("silent")
    assert (
        await probe(stdio_config("mute", mode_file), probe_timeout=0.5) == "no answer within 0.5s"
    )


async def test_at_most_four_probes_run_at_once_and_disabled_servers_are_skipped():
    running = peak = 0

    async def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await anyio.sleep(0.05)
        running -= 1
        return httpx2.Response(200)

    configs = [web(f"s{i}") for i in range(9)] + [web("off", enabled=False)]
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        summary = await check_health(configs, http_client=client, **QUICK)
    assert summary.checked == 9
    assert peak == 4
