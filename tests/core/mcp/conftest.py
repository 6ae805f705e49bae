"""Fixtures for the MCP tests: real servers over stdio and HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.mcp_servers.support import (
    EVERYTHING,
    HttpServer,
    free_port,
    require_everything,
    wait_until,
)


@pytest.fixture
def mode_file(tmp_path: Path) -> Path:
    """The mode file of a ``tests/mcp_servers/stdio_server.py`` process (starts ``normal``)."""
    path = tmp_path / "mode"
    path.write_text("normal")
    return path


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    server = HttpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def everything_http() -> Iterator[str]:
    """server-everything over streamable HTTP; yields its base URL."""
    require_everything()
    port = free_port()
    process = subprocess.Popen(
        ["node", str(EVERYTHING), "streamableHttp"],
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    try:
        wait_until(listening)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def features():
    """A fresh ``features_server`` (in memory) and a factory for pools connected to it."""
    from contextlib import asynccontextmanager

    from tests.mcp_servers.servers import features_server
    from tests.mcp_servers.support import FAST

    from aiops_core.mcp import MCPClientPool, MCPServerConfig, memory_transport

    server = features_server()

    @asynccontextmanager
    async def pool(config: dict | None = None, **options):
        spec = MCPServerConfig(name="feat", command="unused", **(config or {}))
        async with MCPClientPool(
            [spec], transport_factory=memory_transport({"feat": server}), **FAST, **options
        ) as opened:
            yield opened

    pool.server = server  # type: ignore[attr-defined]
    return pool
