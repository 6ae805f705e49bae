"""MCP client pools leased on the engine loop: one shared pool, and one per user for servers that
receive the user's token (those sessions cannot be shared between users)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from .engine_loop import EngineLoop
from .leases import fingerprint

if TYPE_CHECKING:
    from aiops_core.mcp import MCPServerConfig

__all__ = [
    "MAX_USER_POOLS",
    "SHARED_POOL",
    "USER_POOL_PREFIX",
    "drop_pools",
    "lease_pool",
    "new_pool",
    "secrets_digest",
]

MAX_USER_POOLS = 32
"""Per-user MCP pools (servers that get the user's token) kept open per process."""

SHARED_POOL = "mcp:shared"
USER_POOL_PREFIX = "mcp:user:"


async def lease_pool(
    engine: EngineLoop,
    stack: AsyncExitStack,
    configs: Sequence[MCPServerConfig],
    *,
    user_key: str | None = None,
    tenant_key: str | None = None,
) -> Any:
    """Lease the pool of ``configs`` until ``stack`` closes (call on the engine loop).

    With ``user_key`` the pool is that user's own; the least recently used user pools beyond
    :data:`MAX_USER_POOLS` are closed. With ``tenant_key`` the pool is that tenant's (its servers
    differ from the shared set), so that turns of different tenants do not replace each other's.
    """
    key = SHARED_POOL if user_key is None else f"{USER_POOL_PREFIX}{user_key}"
    if tenant_key is not None:
        key = f"{key}:tenant:{tenant_key}"
    # The headers are part of the fingerprint (a changed secret or token gives a new pool), as
    # a digest so that they are never kept in clear text.
    digest = fingerprint([[c.model_dump(mode="json"), secrets_digest(c)] for c in configs])
    pool = await stack.enter_async_context(engine.lease(key, digest, lambda: new_pool(configs)))
    if user_key is not None:
        await engine.trim(USER_POOL_PREFIX, keep=MAX_USER_POOLS)
    return pool


def new_pool(configs: Sequence[MCPServerConfig], **options: Any) -> Any:
    """An MCP pool as the app runs them: servers' questions pause the turn (elicitation), OAuth
    tokens live in the app's encrypted table, and every OAuth URL passes the outbound policy."""
    from aiops_core.mcp import PAUSE, MCPClientPool

    from ..policy import check_oauth_url
    from .mcp_tokens import DatabaseTokenStore

    return MCPClientPool(
        list(configs),
        elicitation=PAUSE,
        token_store=DatabaseTokenStore(),
        oauth_url_check=check_oauth_url,
        **options,
    )


def secrets_digest(config: MCPServerConfig) -> str:
    """A digest of a config's secrets (headers, OAuth secrets): a changed secret gives a new
    pool, and no secret is kept in clear text."""
    oauth = config.oauth.secret_values() if config.oauth is not None else []
    return fingerprint([fingerprint(config.request_headers()), fingerprint(oauth)])


async def drop_pools(engine: EngineLoop) -> None:
    """Close every MCP pool of this process (after a health check changed a server's status)."""
    await engine.discard_prefix("mcp:")
