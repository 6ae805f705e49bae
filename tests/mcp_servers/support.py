"""Helpers for the MCP tests: server launchers, fast pool settings, polling."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from aiops_core.mcp import Backoff, MCPServerConfig

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ROOT / "tests" / "mcp_servers"
EVERYTHING = (
    SERVERS / "node" / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist"
) / "index.js"

FAST = {"backoff": Backoff(initial=0.05, maximum=0.2, jitter=0.0), "startup_timeout": 5.0}
"""Pool settings that keep fault tests quick."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout: float = 15.0, interval: float = 0.05) -> None:
    """Poll a condition (for processes we start, not for asserting speed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


async def eventually(predicate, within: float = 15.0, interval: float = 0.02) -> None:
    """Async poll of a pool condition (state changes happen in background tasks)."""
    import anyio

    with anyio.fail_after(within):
        while not predicate():  # noqa: ASYNC110 - no event announces these conditions
            await anyio.sleep(interval)


def stdio_config(name: str, mode_file: Path, **extra) -> MCPServerConfig:
    return MCPServerConfig(
        name=name,
        command=sys.executable,
        args=[str(SERVERS / "stdio_server.py"), str(mode_file)],
        **extra,
    )


def time_config(name: str = "time") -> MCPServerConfig:
    return MCPServerConfig(
        name=name,
        command=sys.executable,
        args=["-m", "mcp_server_time", "--local-timezone", "UTC"],
    )


class HttpServer:
    """Our streamable-HTTP test server in a subprocess that tests can stop and restart."""

    def __init__(self, token: str | None = None, sse: bool = False) -> None:
        self.port = free_port()
        self.token = token
        self.sse = sse
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def start(self, timeout: float = 15.0) -> None:
        args = [sys.executable, str(SERVERS / "http_server.py"), str(self.port)]
        if self.token:
            args += ["--token", self.token]
        if self.sse:
            args.append("--sse")
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
        )
        try:
            wait_until(self._healthy, timeout=timeout)
        except AssertionError:
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def config(self, name: str = "web", **extra) -> MCPServerConfig:
        transport = "sse" if self.sse else "http"
        return MCPServerConfig(name=name, transport=transport, url=self.url, **extra)


def require_everything() -> None:
    """Skip (or fail under CI) when Node or the npm reference server is missing."""
    if shutil.which("node") and EVERYTHING.exists():
        return
    message = "node or @modelcontextprotocol/server-everything missing: npm ci --prefix tests/mcp_servers/node"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


class OAuthServer:
    """``tests/mcp_servers/oauth_server.py`` (an OAuth-protected MCP server) in a subprocess."""

    def __init__(self, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.flags = flags
        self.process: subprocess.Popen[bytes] | None = None

    def stats(self) -> dict[str, int]:
        import json

        with urllib.request.urlopen(f"{self.url}/stats", timeout=2) as response:
            return dict(json.loads(response.read()))

    def _up(self) -> bool:
        try:
            self.stats()
        except OSError:
            return False
        return True

    def start(self) -> None:
        args = [sys.executable, str(SERVERS / "oauth_server.py"), str(self.port), *self.flags]
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
        )
        wait_until(self._up)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def config(self, name: str = "secure", **oauth) -> MCPServerConfig:
        oauth.setdefault("redirect_uri", f"http://127.0.0.1:{free_port()}/callback")
        return MCPServerConfig(
            name=name, transport="http", url=self.url, health_check=None, oauth=oauth
        )


def rsa_key_pair(directory: Path) -> tuple[str, Path]:
    """A fresh RSA private key (PEM) and the file of its public key, written in ``directory``
    (for ``OAuthServer("--key-client", f"ID={public}")``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = directory / "client.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


async def browser(server: str, url: str) -> None:
    """A person's browser that consents: follow the authorization redirects to the callback."""
    import httpx2

    async with httpx2.AsyncClient(follow_redirects=True, timeout=20) as client:
        await client.get(url)
