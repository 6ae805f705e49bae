"""Transports against real servers: our streamable-HTTP server and the npm reference server."""

from __future__ import annotations

import anyio
import pytest
from tests.mcp_servers.support import (
    EVERYTHING,
    FAST,
    HttpServer,
    eventually,
    require_everything,
    stdio_config,
    time_config,
)

from aiops_core.errors import MCPConnectionError, MCPTimeoutError, MCPToolError, UserError
from aiops_core.mcp import MCPClientPool, MCPServerConfig, ServerState, open_transport
from aiops_core.messages import ImagePart, TextPart

pytestmark = pytest.mark.anyio


async def test_streamable_http_tools_errors_images_and_timeouts(http_server):
    async with MCPClientPool([http_server.config(timeout=1.0)], **FAST) as pool:
        tools = {t.name: t for t in await pool.list_tools()}
        assert {"echo", "fail", "slow", "snapshot", "whoami"} <= set(tools)
        assert await tools["echo"].invoke({"text": "over http"}, None) == [
            TextPart(text="over http")
        ]
        (image,) = await tools["snapshot"].invoke({}, None)
        assert isinstance(image, ImagePart) and image.media_type == "image/png"
        with pytest.raises(MCPToolError, match=r"'web': tool 'fail' failed: .*refused the change"):
            await tools["fail"].invoke({}, None)
        with pytest.raises(
            MCPTimeoutError, match=r"'web': tool 'slow' did not answer within 1\.0s"
        ):
            await tools["slow"].invoke({"seconds": 30}, None)
        assert pool.session("web").healthy


async def test_auth_token_is_sent_and_never_shown():
    server = HttpServer(token="s3cret-token")
    server.start()
    try:
        good = server.config("good", auth_token="s3cret-token")
        bad = server.config("bad", auth_token="wrong")
        async with MCPClientPool([good, bad], **FAST) as pool:
            status = {s.name: s for s in pool.status()}
            assert status["good"].state is ServerState.HEALTHY
            assert status["bad"].state is ServerState.UNHEALTHY
            assert "s3cret" not in repr(good) and "s3cret" not in str(status)
    finally:
        server.stop()


async def test_http_server_stopped_and_restarted(http_server, mode_file):
    servers = [http_server.config(), stdio_config("lab", mode_file)]
    async with MCPClientPool(servers, ping_interval=0.2, **FAST) as pool:
        before = await pool.call_tool("web", "whoami")
        http_server.stop()
        with anyio.fail_after(10), pytest.raises(MCPConnectionError):
            await pool.call_tool("web", "whoami")
        await eventually(lambda: pool.session("web").state is ServerState.UNHEALTHY)
        listed = await pool.list_tools()
        assert {t.metadata["server"] for t in listed} == {"lab"}
        assert "lab_echo" in {t.name for t in listed}  # names stay put while "web" is down
        assert (await pool.call_tool("lab", "echo", {"text": "fine"})).content[0].text == "fine"
        assert pool.session("web").last_error
        http_server.start()
        await eventually(lambda: pool.session("web").healthy)
        after = await pool.call_tool("web", "whoami")
        assert after.content[0].text != before.content[0].text  # a new server process
        assert "web_echo" in {t.name for t in await pool.list_tools()}  # "echo" is on both


async def test_legacy_sse_transport():
    server = HttpServer(sse=True)
    server.start()
    try:
        async with MCPClientPool([server.config("legacy")], **FAST) as pool:
            tools = {t.name: t for t in await pool.list_tools()}
            assert await tools["echo"].invoke({"text": "sse"}, None) == [TextPart(text="sse")]
            with pytest.raises(MCPToolError, match="'legacy'"):
                await tools["fail"].invoke({}, None)
    finally:
        server.stop()


async def test_an_unreachable_http_server_fails_without_blocking():
    from tests.mcp_servers.support import free_port

    config = MCPServerConfig(name="gone", transport="http", url=f"http://127.0.0.1:{free_port()}")
    async with MCPClientPool([config], **FAST) as pool:
        status = pool.status()[0]
    assert status.state is ServerState.UNHEALTHY
    assert status.last_error


@pytest.mark.node
async def test_server_everything_over_stdio():
    require_everything()
    config = MCPServerConfig(name="everything", command="node", args=[str(EVERYTHING), "stdio"])
    async with MCPClientPool([config], **FAST) as pool:
        tools = {t.name: t for t in await pool.list_tools()}
        assert {"echo", "get-sum", "get-tiny-image", "get-structured-content"} <= set(tools)
        assert await tools["echo"].invoke({"message": "hi"}, None) == [TextPart(text="Echo: hi")]
        (summed,) = await tools["get-sum"].invoke({"a": 2, "b": 3}, None)
        assert "5" in summed.text
        parts = await tools["get-tiny-image"].invoke({}, None)
        assert any(isinstance(p, ImagePart) and p.data for p in parts)
        (data,) = await tools["get-structured-content"].invoke({"location": "New York"}, None)
        assert set(data.data) >= {"temperature", "conditions"}


@pytest.mark.node
async def test_server_everything_over_streamable_http(everything_http):
    config = MCPServerConfig(name="everything", transport="http", url=everything_http)
    async with MCPClientPool([config], **FAST) as pool:
        tools = {t.name: t for t in await pool.list_tools()}
        assert tools["echo"].description.startswith("[everything] ")
        assert await tools["echo"].invoke({"message": "web"}, None) == [TextPart(text="Echo: web")]
        links = await tools["get-resource-links"].invoke({"count": 2}, None)
        assert [p.data["type"] for p in links if hasattr(p, "data")] == ["resource_link"] * 2


async def test_a_stdio_config_without_a_command_is_refused_by_the_transport_too():
    # The validator refuses it; a config built past the validator meets a clear error, not assert.
    config = MCPServerConfig.model_construct(name="local", transport="stdio", command=None)
    with pytest.raises(UserError, match="'local' uses stdio but names no command"):
        async with open_transport(config):
            pass


async def test_a_stdio_server_never_closes_the_stderr_it_was_given(monkeypatch):
    """sys.stderr replaced while the server runs (a test runner's capture, a daemon's redirect):
    the stream the server was given stays open; it belongs to whoever set it."""
    import io
    import sys

    class Stderr(io.StringIO):
        def fileno(self) -> int:
            return 2  # a real descriptor: the server's stderr goes there

    given = Stderr()
    monkeypatch.setattr(sys, "stderr", given)
    async with open_transport(time_config()):
        monkeypatch.setattr(sys, "stderr", Stderr())
    assert not given.closed
