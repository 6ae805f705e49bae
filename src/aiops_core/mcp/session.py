"""One MCP server's managed session: connect, serve, notice failure, reconnect with backoff.

Each :class:`ServerSession` runs one supervisor task (:meth:`ServerSession.run`) inside the pool's
task group. The task owns the transport and the SDK ``ClientSession`` (entered and exited in that
task, one ``AsyncExitStack`` per connection, as the SDK's ``session_group`` does); other tasks only
send requests through it, which the SDK's dispatcher allows concurrently.

A connection is declared dead when its read stream ends (the process exited, the HTTP transport
crashed), when the server sends something that is not JSON-RPC, when a request reports the
connection closed, or when a keep-alive ping fails. Tearing the connection down wakes every
in-flight request with a connection error, so callers fail fast instead of hanging.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio

from ..context import RunContext
from ..errors import (
    InputRequired,
    MCPConnectionError,
    MCPError,
    MCPTimeoutError,
    MCPToolError,
)
from .callbacks import ClientFeatures, RunBinding, session_callbacks
from .config import MCPServerConfig
from .convert import error_text
from .elicitation import fingerprint
from .resources import ServerResources
from .session_auth import SessionAuth
from .status import Backoff, ServerState, ServerStatus
from .transport import TransportFactory, open_transport

if TYPE_CHECKING:
    import mcp_types
    from mcp import ClientSession
    from mcp.client.session import MessageHandlerFnT
    from mcp.shared.dispatcher import ProgressFnT


__all__ = ["ServerSession", "describe_error"]

log = logging.getLogger("aiops_core.mcp")


def _now() -> datetime:
    return datetime.now(UTC)


class _WatchedStream:
    """A read stream that reports its end (EOF or closure) to the connection."""

    def __init__(self, inner: Any, on_end: Callable[[str], None]) -> None:
        self._inner = inner
        self._on_end = on_end

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> Any:
        try:
            return await self._inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._on_end("the server closed the connection")
            raise

    def __aiter__(self) -> _WatchedStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._inner.__anext__()
        except StopAsyncIteration:
            self._on_end("the server closed the connection")
            raise
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._on_end("the server closed the connection")
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _WatchedStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._inner.aclose()


@dataclass(eq=False)
class _Connection:
    """One connection attempt's session and its fate."""

    on_dead: Callable[[_Connection, str], None]
    session: ClientSession | None = None
    dead_reason: str | None = None
    recorded: bool = False
    startup: anyio.CancelScope | None = None
    deadline: anyio.CancelScope | None = None

    def kill(self, reason: str) -> None:
        if self.dead_reason is None:
            self.dead_reason = reason
            if self.startup is not None:
                self.startup.cancel()  # do not wait out the handshake timeout
            self.on_dead(self, reason)


class ServerSession:
    """The managed, long-lived session to one MCP server.

    Args:
        config: the server.
        transport_factory: opens the transport (default :func:`open_transport`).
        tool_cache_ttl: seconds a tool listing stays fresh.
        startup_timeout: seconds for the handshake and first listing of one connection attempt.
        backoff: reconnect delays.
        ping_interval: seconds between keep-alive pings on an idle connection (``None``: never).
        client_name: the client name sent in the handshake.
        features: what the client offers the server (elicitation, sampling, roots, OAuth).
    """

    def __init__(
        self,
        config: MCPServerConfig,
        *,
        transport_factory: TransportFactory | None = None,
        tool_cache_ttl: float = 300.0,
        startup_timeout: float = 10.0,
        backoff: Backoff | None = None,
        ping_interval: float | None = 60.0,
        client_name: str = "aiops",
        features: ClientFeatures | None = None,
    ) -> None:
        self.config = config
        self.name = config.name
        self._factory = transport_factory or open_transport
        self._ttl = tool_cache_ttl
        self.startup_timeout = startup_timeout
        self._backoff = backoff or Backoff()
        self._ping_interval = ping_interval
        self._client_name = client_name
        self.state = ServerState.STARTING if config.enabled else ServerState.DISABLED
        self.last_error: str | None = None
        self.last_check: datetime | None = None
        self.failures = 0
        self.connected_since: datetime | None = None
        self.version = 0
        """Bumped whenever the offered tools or the state change (the pool's cache key)."""
        self._conn: _Connection | None = None
        self._tools: list[mcp_types.Tool] = []
        self._tools_at = float("-inf")
        self._tools_stale = True
        self._closing = False
        self._wake = anyio.Event()
        self._reconnect_now = anyio.Event()
        self.first_attempt = anyio.Event()
        """Set once the first connection attempt has succeeded or failed."""
        self._refresh_lock = anyio.Lock()
        self.features = features or ClientFeatures()
        self.binding = RunBinding()
        """Agent runs with tool calls in flight here (elicitation and sampling answer for them)."""
        self.resources = ServerResources(self)
        """This server's resources and the client's subscriptions to them."""
        self.auth = SessionAuth(self)
        """OAuth and 401 handling of this server."""

    def __repr__(self) -> str:
        return f"ServerSession(name={self.name!r}, state={self.state.value!r})"

    # ------------------------------------------------------------------ public view
    @property
    def healthy(self) -> bool:
        """Connected, and the connection has not been found dead."""
        conn = self._conn
        return (
            self.state is ServerState.HEALTHY
            and conn is not None
            and conn.session is not None
            and conn.dead_reason is None
        )

    def status(self) -> ServerStatus:
        """A snapshot of this server's state."""
        return ServerStatus(
            name=self.name,
            state=self.state,
            transport=self.config.transport,
            type=self.config.type,
            tool_count=len(self.offered_tools()),
            last_error=self.last_error,
            last_check=self.last_check,
            failures=self.failures,
            connected_since=self.connected_since if self.healthy else None,
            auth_required=self.auth.required,
        )

    def offered_tools(self) -> list[mcp_types.Tool]:
        """The last known tools that the allow/deny lists let through (even when unhealthy)."""
        return [t for t in self._tools if self.config.offers(t.name)]

    def invalidate(self) -> None:
        """Mark the tool listing stale; the next :meth:`tools` call fetches it again."""
        self._tools_stale = True
        self._signal()

    def request_reconnect(self) -> None:
        """Skip the rest of the backoff delay (or drop a live connection) and reconnect now."""
        conn = self._conn
        if conn is not None and self.state is ServerState.HEALTHY:
            conn.kill("reconnect requested")
        self._reconnect_now.set()

    def close(self) -> None:
        """Ask the supervisor task to close the connection and stop."""
        self._closing = True
        self._reconnect_now.set()
        self._signal()

    # ------------------------------------------------------------------ supervisor
    def _signal(self) -> None:
        self._wake.set()

    def _set_state(self, state: ServerState) -> None:
        if state is not self.state:
            self.state = state
            self.version += 1

    def _on_dead(self, conn: _Connection, reason: str) -> None:
        # Report at once (status, tool lists) instead of when the teardown has finished.
        if not conn.recorded and not self._closing:
            conn.recorded = True
            self._record_failure(reason)
        self._signal()

    def _record_failure(self, reason: str) -> None:
        reason = self.config.scrub(reason)  # header values and tokens never reach last_error
        self.failures += 1
        self.last_error = reason
        self.last_check = _now()
        self._set_state(ServerState.UNHEALTHY)
        log.warning("MCP server %r failed (%d in a row): %s", self.name, self.failures, reason)

    async def run(self) -> None:
        """Connect, serve until the connection dies, back off, repeat until :meth:`close`."""
        while not self._closing:
            conn = _Connection(on_dead=self._on_dead)
            self._conn = conn
            try:
                await self._serve(conn)
            except Exception as err:
                if not conn.recorded:
                    conn.recorded = True
                    self._record_failure(conn.dead_reason or self.auth.describe_failure(err))
            finally:
                self._conn = None
                self.first_attempt.set()
            if self._closing:
                break
            with anyio.move_on_after(self._backoff.delay(self.failures)):
                await self._reconnect_now.wait()
            self._reconnect_now = anyio.Event()
        self._set_state(ServerState.CLOSED)

    async def _serve(self, conn: _Connection) -> None:
        from mcp import ClientSession, Implementation

        async with AsyncExitStack() as stack:
            watch = self.auth.watch()
            transport = (
                self._factory(self.config)
                if watch is None
                else self._factory(self.config, auth=watch)
            )
            read, write = await stack.enter_async_context(transport)
            session = await stack.enter_async_context(
                ClientSession(
                    _WatchedStream(read, conn.kill),
                    write,
                    read_timeout_seconds=self.config.timeout,
                    message_handler=self._message_handler(conn),
                    client_info=Implementation(name=self._client_name, version="1"),
                    **session_callbacks(self.config, self.features, self.binding),
                )
            )
            tools: list[mcp_types.Tool] = []
            with anyio.CancelScope() as conn.startup:
                conn.deadline = anyio.CancelScope(
                    deadline=anyio.current_time() + self.startup_timeout
                )
                with conn.deadline:
                    await session.initialize()
                    tools = await _list_all_tools(session)
                    await self._after_handshake(session)
                if conn.deadline.cancelled_caught:
                    raise MCPConnectionError(
                        f"no answer to the handshake within {self.startup_timeout}s",
                        server=self.name,
                    )
            conn.startup = conn.deadline = None
            if conn.dead_reason is not None:
                raise MCPConnectionError(conn.dead_reason, server=self.name)
            conn.session = session
            self.auth.required = False
            self._tools, self._tools_at, self._tools_stale = tools, anyio.current_time(), False
            self.failures, self.last_error, self.last_check = 0, None, _now()
            self.connected_since = self.last_check
            self.version += 1
            self._set_state(ServerState.HEALTHY)
            self.first_attempt.set()
            log.info("MCP server %r connected (%d tools)", self.name, len(tools))
            await self._watch(conn, session)

    async def _watch(self, conn: _Connection, session: ClientSession) -> None:
        """Wait for death, closing, a stale tool list, or the next keep-alive ping."""
        while not self._closing and conn.dead_reason is None:
            if self._tools_stale:
                await self._refresh(conn)
                continue
            with anyio.move_on_after(self._ping_interval or float("inf")) as idle:
                await self._wake.wait()
            self._wake = anyio.Event()
            if idle.cancelled_caught and conn.dead_reason is None and not self._closing:
                await self._ping(conn, session)

    async def _ping(self, conn: _Connection, session: ClientSession) -> None:
        try:
            with anyio.fail_after(self.config.timeout):
                await session.send_ping()
        except Exception as err:
            conn.kill(f"keep-alive ping failed: {describe_error(err)}")
        else:
            self.last_check = _now()

    async def _after_handshake(self, session: ClientSession) -> None:
        """Per-connection setup after the handshake: log level, resource subscriptions."""
        import mcp_types

        caps = session.server_capabilities
        if self.config.log_level and caps is not None and caps.logging is not None:
            await session.send_request(
                mcp_types.SetLevelRequest(
                    params=mcp_types.SetLevelRequestParams(level=self.config.log_level)
                ),
                mcp_types.EmptyResult,
            )
        await self.resources.restore(session)

    def _message_handler(self, conn: _Connection) -> MessageHandlerFnT:
        async def handle(message: Any) -> None:
            import mcp_types

            if isinstance(message, Exception):
                conn.kill(f"the server sent an invalid message: {describe_error(message)}")
            elif isinstance(message, mcp_types.ToolListChangedNotification):
                log.debug("MCP server %r: tool list changed", self.name)
                self.invalidate()
            else:
                await self.resources.notify(message)

        return handle

    # ------------------------------------------------------------------ tools
    async def tools(self) -> list[mcp_types.Tool]:
        """The offered tools, fetched again when stale or older than the TTL; ``[]`` when down."""
        conn = self._conn
        if not self.healthy or conn is None:
            return []
        if self._tools_stale or anyio.current_time() - self._tools_at > self._ttl:
            await self._refresh(conn)
        return self.offered_tools() if self.healthy else []

    async def _refresh(self, conn: _Connection) -> None:
        async with self._refresh_lock:
            if conn.session is None or conn.dead_reason is not None:
                return
            if not self._tools_stale and anyio.current_time() - self._tools_at <= self._ttl:
                return  # another task refreshed while we waited for the lock
            self._tools_stale = False
            try:
                with anyio.fail_after(self.config.timeout):
                    tools = await _list_all_tools(conn.session)
            except Exception as err:
                conn.kill(f"listing tools failed: {describe_error(err)}")
                return
            if [t.model_dump() for t in tools] != [t.model_dump() for t in self._tools]:
                self.version += 1
            self._tools, self._tools_at, self.last_check = tools, anyio.current_time(), _now()

    # ------------------------------------------------------------------ calls
    async def call_tool(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        call_timeout: float | None = None,
        progress: ProgressFnT | None = None,
        context: RunContext | None = None,
    ) -> mcp_types.CallToolResult:
        """Call a tool on this server.

        Cancelling the caller cancels the request on the server too (``notifications/cancelled``).

        Args:
            name: the server's name for the tool.
            arguments: its arguments.
            call_timeout: seconds to wait (default: the server's ``timeout``).
            progress: ``async (progress, total, message)`` for the server's progress notifications.
            context: the agent run making the call; the server's elicitation and sampling
                requests during the call are answered in its name.

        Raises:
            MCPAuthorizationError: the server wants (new) authorization.
            InputRequired: the server asked a question and ``context``'s run pauses for it (the
                call was cancelled; see :mod:`aiops_core.mcp.elicitation`).
            MCPConnectionError: the server is down, or the connection died during the call.
            MCPTimeoutError: no answer within ``call_timeout`` (default: the server's ``timeout``).
            MCPToolError: the tool returned an error result.
            MCPError: the server answered with a protocol error or an invalid result.
        """
        from mcp import MCPError as SdkError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        session, conn = self._live()
        limit = call_timeout or self.config.timeout
        try:
            with self.binding.bind(context) as slot, slot.scope:
                result = await session.call_tool(
                    name, arguments, read_timeout_seconds=limit, progress_callback=progress
                )
            if slot.question is not None:  # the run pauses until a person answers
                question = slot.question
                raise InputRequired({**question.as_dict(), "key": fingerprint(question)})
        except SdkError as err:
            if self.auth.failed:
                raise self.auth.error() from err
            if err.code == CONNECTION_CLOSED:
                conn.kill(f"connection lost during a call to {name!r}")
                raise MCPConnectionError(
                    f"connection lost while calling tool {name!r}", server=self.name
                ) from err
            if err.code == REQUEST_TIMEOUT:
                raise MCPTimeoutError(
                    f"tool {name!r} did not answer within {limit}s", server=self.name
                ) from err
            message = self.config.scrub(err.message)
            raise MCPError(f"tool {name!r}: {message}", server=self.name) from err
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError) as err:
            conn.kill(f"transport failed during a call to {name!r}: {describe_error(err)}")
            raise MCPConnectionError(
                f"transport failed while calling tool {name!r}", server=self.name
            ) from err
        except (RuntimeError, ValueError) as err:  # invalid or unexpected result shapes
            raise MCPError(
                f"tool {name!r} returned an invalid result: {err}", server=self.name
            ) from err
        if result.is_error:
            raise MCPToolError(f"tool {name!r} failed: {error_text(result)}", server=self.name)
        return result

    def startup_deadline(self) -> anyio.CancelScope | None:
        """The handshake deadline of the connection being set up, if one is."""
        conn = self._conn
        return conn.deadline if conn is not None else None

    def _live(self) -> tuple[ClientSession, _Connection]:
        """The live session, or :class:`MCPConnectionError` (:class:`MCPAuthorizationError`)."""
        conn = self._conn
        session = conn.session if conn is not None else None
        if conn is None or session is None or conn.dead_reason is not None:
            if self.auth.required and self.auth.last is not None:
                raise self.auth.last
            why = f" ({self.last_error})" if self.last_error else ""
            raise MCPConnectionError(f"not connected{why}; try again later", server=self.name)
        return session, conn

    async def ping(self) -> None:
        """Send an MCP ping on the live connection (raises :class:`MCPConnectionError`)."""
        conn = self._conn
        if conn is None or conn.session is None or conn.dead_reason is not None:
            raise MCPConnectionError("not connected", server=self.name)
        try:
            with anyio.fail_after(self.config.timeout):
                await conn.session.send_ping()
        except Exception as err:
            conn.kill(f"ping failed: {describe_error(err)}")
            raise MCPConnectionError(
                f"ping failed: {self.config.scrub(describe_error(err))}", server=self.name
            ) from err
        self.last_check = _now()


async def _list_all_tools(session: ClientSession) -> list[mcp_types.Tool]:
    """Every page of ``tools/list``."""
    from mcp_types import PaginatedRequestParams

    result = await session.list_tools()
    tools = list(result.tools)
    while result.next_cursor:
        result = await session.list_tools(params=PaginatedRequestParams(cursor=result.next_cursor))
        tools.extend(result.tools)
    return tools


def describe_error(err: BaseException) -> str:
    """A one-line description of a failure, unwrapping exception groups."""
    while isinstance(err, BaseExceptionGroup) and err.exceptions:
        err = err.exceptions[0]
    text = str(err).strip()
    if isinstance(err, TimeoutError):
        return text or "timed out"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
