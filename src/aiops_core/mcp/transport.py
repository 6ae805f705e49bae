"""Transports: turn an :class:`MCPServerConfig` into the SDK's read/write stream pair.

A transport factory is ``factory(config, *, auth=None) -> async context manager of (read, write)``
(``auth`` is passed, as an ``httpx2.Auth``, only to HTTP servers). The pool uses
:func:`open_transport` unless given another one, which is how tests plug in the SDK's in-memory
transport (see :func:`memory_transport`) without a process or a socket.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO, TypeAlias

from ..errors import UserError
from .config import MCPServerConfig

if TYPE_CHECKING:
    import httpx2
    from mcp.client._transport import TransportStreams

__all__ = ["TransportFactory", "memory_transport", "open_transport"]

TransportFactory: TypeAlias = "Callable[..., AbstractAsyncContextManager[TransportStreams]]"
"""``factory(config, *, auth=None)`` -> an async context manager yielding ``(read, write)``."""


def _errlog() -> tuple[TextIO, bool]:
    """Where a stdio server's stderr goes, and whether it is ours to close.

    Ours when it is a real file (a terminal, a log); under a capturing test runner sys.stderr has
    no descriptor, so it is discarded.
    """
    try:
        sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return open(os.devnull, "w"), True
    return sys.stderr, False


def open_transport(
    config: MCPServerConfig, *, auth: httpx2.Auth | None = None
) -> AbstractAsyncContextManager[TransportStreams]:
    """Open the transport described by ``config`` (stdio, streamable HTTP or SSE).

    ``auth`` (HTTP only) authenticates every request, e.g. an OAuth provider.
    """
    if config.transport == "stdio":
        return _stdio(config)
    return _OPENERS[config.transport](config, auth)


@asynccontextmanager
async def _stdio(config: MCPServerConfig) -> AsyncIterator[TransportStreams]:
    """A local server process, spoken to over its stdin and stdout."""
    from mcp.client.stdio import StdioServerParameters, stdio_client

    if not config.command:  # the config validator refuses this; a hand-built config may not
        raise UserError(f"MCP server {config.name!r} uses stdio but names no command")
    params = StdioServerParameters(
        command=config.command,
        args=list(config.args),
        env=config.environment() or None,
        cwd=config.cwd,
    )
    errlog, owned = _errlog()
    try:
        async with stdio_client(params, errlog=errlog) as streams:
            yield streams
    finally:
        # Decided at opening: sys.stderr may have been replaced meanwhile (a test runner's
        # capture, a daemon's redirect), and the stream we were given is not ours to close.
        if owned:
            errlog.close()


@asynccontextmanager
async def _streamable_http(
    config: MCPServerConfig, auth: httpx2.Auth | None
) -> AsyncIterator[TransportStreams]:
    """Streamable HTTP: one client for the session, with a long read timeout for streams."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    timeout = httpx2.Timeout(config.timeout, read=max(config.timeout, 300.0))
    async with (
        httpx2.AsyncClient(
            headers=config.request_headers(), timeout=timeout, verify=config.verify_tls, auth=auth
        ) as client,
        streamable_http_client(config.endpoint, http_client=client) as streams,
    ):
        yield streams


@asynccontextmanager
async def _sse(
    config: MCPServerConfig, auth: httpx2.Auth | None
) -> AsyncIterator[TransportStreams]:
    """The legacy HTTP + server-sent events transport."""
    import httpx2
    from mcp.client.sse import sse_client

    def client_factory(
        headers: Mapping[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            headers=dict(headers or {}), timeout=timeout, auth=auth, verify=config.verify_tls
        )

    async with sse_client(
        config.endpoint,
        headers=config.request_headers(),
        timeout=config.timeout,
        httpx_client_factory=client_factory,
        auth=auth,
    ) as streams:
        yield streams


_OPENERS: dict[str, TransportFactory] = {"http": _streamable_http, "sse": _sse}


def memory_transport(servers: Mapping[str, Any]) -> TransportFactory:
    """A transport factory serving some servers in-process (tests, embedded servers).

    Args:
        servers: server name -> an SDK server object (``mcp.server.mcpserver.MCPServer`` or a
            low-level ``Server``). Other names fall through to :func:`open_transport`.
    """

    def factory(
        config: MCPServerConfig, *, auth: httpx2.Auth | None = None
    ) -> AbstractAsyncContextManager[TransportStreams]:
        server = servers.get(config.name)
        if server is None:
            return open_transport(config, auth=auth)
        from mcp.client._memory import InMemoryTransport

        return InMemoryTransport(server)

    return factory
