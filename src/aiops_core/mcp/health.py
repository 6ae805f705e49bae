"""Health checks for MCP servers, as one reusable function.

HTTP servers with a health path are checked with ``GET {url}{health_check}`` (any 2xx is healthy);
stdio servers, and HTTP servers without a health path, with a fresh MCP session and a ping. A change
of status is believed only after it has been seen again on ``rechecks`` re-checks, ``recheck_delay``
seconds apart, so one dropped packet never flips a server. The Nautobot app's scheduled job calls
:func:`check_health` with the servers' current statuses and applies the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import anyio

from ..errors import MCPAuthorizationError
from .config import MCPServerConfig
from .session import describe_error
from .transport import TransportFactory, open_transport

if TYPE_CHECKING:
    import httpx2

    from .auth import AuthWatch
    from .pool import MCPClientPool
    from .tokens import TokenStore

__all__ = ["HealthResult", "HealthSummary", "check_health", "probe"]

Health = Literal["healthy", "unhealthy"]


@dataclass(frozen=True, slots=True)
class HealthResult:
    """One server's outcome.

    Attributes:
        name: the server.
        status: the confirmed status (the previous one when a change was not confirmed).
        previous: the status the caller passed in, if any.
        changed: ``status != previous``, confirmed by the re-checks.
        error: why the last probe failed, if it did.
        checked_at: when the last probe ran.
    """

    name: str
    status: Health
    previous: str | None
    changed: bool
    error: str | None
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class HealthSummary:
    """What one health-check round found."""

    checked: int
    changed: int
    failed: int
    cache_cleared: bool
    results: list[HealthResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (job logs, the CLI, the REST API)."""
        return {
            "checked": self.checked,
            "changed": self.changed,
            "failed": self.failed,
            "cache_cleared": self.cache_cleared,
            "results": [
                {
                    "name": r.name,
                    "status": r.status,
                    "previous": r.previous,
                    "changed": r.changed,
                    "error": r.error,
                    "checked_at": r.checked_at.isoformat(),
                }
                for r in self.results
            ],
        }


async def probe(
    config: MCPServerConfig,
    *,
    probe_timeout: float = 5.0,
    http_client: httpx2.AsyncClient | None = None,
    transport_factory: TransportFactory | None = None,
    token_store: TokenStore | None = None,
    oauth_url_check: Callable[[str], None] | None = None,
) -> str | None:
    """Check one server once; ``None`` when healthy, else the reason it is not.

    An OAuth server's MCP ping uses the tokens in ``token_store`` (refreshing them if due, never
    asking a person); a server refusing the probe for want of authorization is reported as
    "authorization required for server X". ``oauth_url_check`` sees every URL the OAuth flow
    contacts on its own, as the pool's does.
    """
    url = config.health_url
    auth = _probe_auth(config, token_store, oauth_url_check) if url is None else None
    try:
        with anyio.fail_after(probe_timeout):
            if url is not None:
                return await _probe_http(config, url, probe_timeout, http_client)
            factory = transport_factory or open_transport
            return await _probe_mcp(config, probe_timeout, factory, auth)
    except TimeoutError:
        return f"no answer within {probe_timeout}s"
    except Exception as err:
        if auth is not None and (auth.challenged or auth.error is not None):
            return config.scrub(str(_auth_failure(config, auth)))
        return config.scrub(describe_error(err))


def _probe_auth(
    config: MCPServerConfig,
    store: TokenStore | None,
    url_check: Callable[[str], None] | None = None,
) -> AuthWatch | None:
    """The 401 watch (with the server's OAuth provider and stored tokens) for an HTTP probe."""
    if config.transport == "stdio":
        return None
    from .auth import AuthWatch, build_auth
    from .tokens import ServerTokenStorage

    inner = None
    if config.oauth is not None and store is not None:
        storage = ServerTokenStorage(store, config.name, config.endpoint)
        inner = build_auth(config.name, config.endpoint, config.oauth, storage)
    return AuthWatch(inner, url_check)


def _auth_failure(config: MCPServerConfig, auth: AuthWatch) -> MCPAuthorizationError:
    if isinstance(auth.error, MCPAuthorizationError):
        return auth.error
    if config.oauth is None:
        return MCPAuthorizationError(config.name, "the server answered HTTP 401")
    if config.oauth.grant == "client_credentials":
        from .session_auth import refused_client

        detail = describe_error(auth.error) if auth.error is not None else ""
        return MCPAuthorizationError(config.name, refused_client(config.oauth, detail))
    return MCPAuthorizationError(config.name, "no valid token is stored; sign in again")


async def _probe_http(
    config: MCPServerConfig, url: str, limit: float, client: httpx2.AsyncClient | None
) -> str | None:
    import httpx2

    async with AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(
                httpx2.AsyncClient(timeout=limit, verify=config.verify_tls)
            )
        response = await client.get(url, headers=config.request_headers())
    if response.is_success:
        return None
    return f"GET {config.health_check} answered HTTP {response.status_code}"


async def _probe_mcp(
    config: MCPServerConfig, limit: float, factory: TransportFactory, auth: AuthWatch | None
) -> str | None:
    from mcp import ClientSession

    transport = factory(config) if auth is None else factory(config, auth=auth)
    async with (
        transport as (read, write),
        ClientSession(read, write, read_timeout_seconds=limit) as session,
    ):
        await session.initialize()
        await session.send_ping()
    return None


def _seen(error: str | None) -> Health:
    return "healthy" if error is None else "unhealthy"


@dataclass(slots=True)
class _Round:
    """One health-check round: how to probe, how many re-checks confirm a change."""

    rechecks: int
    recheck_delay: float
    probe_timeout: float
    limiter: anyio.CapacityLimiter
    http_client: httpx2.AsyncClient | None
    transport_factory: TransportFactory | None
    token_store: TokenStore | None = None
    oauth_url_check: Callable[[str], None] | None = None

    async def probe(self, config: MCPServerConfig) -> str | None:
        async with self.limiter:
            return await probe(
                config,
                probe_timeout=self.probe_timeout,
                http_client=self.http_client,
                transport_factory=self.transport_factory,
                token_store=self.token_store,
                oauth_url_check=self.oauth_url_check,
            )

    async def check(self, config: MCPServerConfig, before: str | None) -> HealthResult:
        """Probe one server; a change from ``before`` counts only once the re-checks agree."""
        error = await self.probe(config)
        seen = _seen(error)
        status, changed = seen, False
        if before is not None and seen != before:
            changed, error = await self.confirm(config, seen, error)
            if not changed:
                status = "healthy" if before == "healthy" else "unhealthy"
        return HealthResult(
            name=config.name,
            status=status,
            previous=before,
            changed=changed,
            error=error,
            checked_at=datetime.now(UTC),
        )

    async def confirm(
        self, config: MCPServerConfig, seen: Health, error: str | None
    ) -> tuple[bool, str | None]:
        """Whether every re-check sees ``seen`` too, and the last probe's error."""
        for _ in range(self.rechecks):
            await anyio.sleep(self.recheck_delay)
            error = await self.probe(config)
            if _seen(error) != seen:
                return False, error
        return True, error


def _refresh_pool(pool: MCPClientPool, changed: Iterable[HealthResult]) -> None:
    """Drop the tool caches of changed servers and reconnect those that came back."""
    for result in changed:
        if result.name not in pool.servers:
            continue
        session = pool.session(result.name)
        session.invalidate()
        if result.status == "healthy" and not session.healthy:
            session.request_reconnect()


async def check_health(
    configs: Iterable[MCPServerConfig | Mapping[str, Any]],
    *,
    current: Mapping[str, str] | None = None,
    rechecks: int = 2,
    recheck_delay: float = 5.0,
    concurrency: int = 4,
    probe_timeout: float = 5.0,
    pool: MCPClientPool | None = None,
    http_client: httpx2.AsyncClient | None = None,
    transport_factory: TransportFactory | None = None,
    token_store: TokenStore | None = None,
    oauth_url_check: Callable[[str], None] | None = None,
) -> HealthSummary:
    """Check many servers (``concurrency`` at a time) and confirm changes before reporting.

    Args:
        configs: the servers; disabled ones are skipped.
        current: server name -> its status now (``"healthy"``/``"unhealthy"``, any case).
            A server missing here has no previous status: its result is reported as seen,
            without re-checks, and never counts as a change.
        rechecks: re-checks that must agree before a change of status is reported.
        recheck_delay: seconds between re-checks.
        concurrency: servers checked at the same time.
        probe_timeout: seconds for one probe.
        pool: when a change is confirmed, this pool's tool caches are cleared and the changed
            servers reconnected at once.
        http_client: an ``httpx2.AsyncClient`` for the HTTP probes (tests inject one).
        transport_factory: opens MCP transports for the ping probes.
        token_store: OAuth tokens for the ping probes of OAuth-protected servers.
        oauth_url_check: ``check(url)`` for every URL those probes' OAuth flows contact (raise
            to refuse), as :class:`~aiops_core.mcp.MCPClientPool`'s.

    Returns:
        A :class:`HealthSummary`: servers checked, statuses changed, servers failing, and
        whether a pool cache was cleared.
    """
    servers = [c for c in map(MCPServerConfig.from_dict, configs) if c.enabled]
    previous = {k: v.lower() for k, v in (current or {}).items()}
    checks = _Round(
        rechecks=rechecks,
        recheck_delay=recheck_delay,
        probe_timeout=probe_timeout,
        limiter=anyio.CapacityLimiter(max(1, concurrency)),
        http_client=http_client,
        transport_factory=transport_factory,
        token_store=token_store,
        oauth_url_check=oauth_url_check,
    )
    results: dict[str, HealthResult] = {}

    async def check(config: MCPServerConfig) -> None:
        results[config.name] = await checks.check(config, previous.get(config.name))

    async with anyio.create_task_group() as tg:
        for config in servers:
            tg.start_soon(check, config)

    ordered = [results[c.name] for c in servers]
    changed = [r for r in ordered if r.changed]
    cache_cleared = False
    if changed and pool is not None and pool.is_open:
        _refresh_pool(pool, changed)
        cache_cleared = True
    return HealthSummary(
        checked=len(ordered),
        changed=len(changed),
        failed=sum(1 for r in ordered if r.status == "unhealthy"),
        cache_cleared=cache_cleared,
        results=ordered,
    )
