"""The "Connect" button of an MCP server: an admin signs the app in to it (authorization code).

:func:`start_connect` opens a one-server pool on the engine loop with a :class:`WebAuthorizer`.
The SDK's OAuth provider does discovery, client registration and PKCE, then hands the sign-in
URL to the authorizer, which checks it against the outbound policy, records the sign-in (its
``state``, bound to the admin and the server) in Django's cache and gives the URL to the view,
which redirects the browser there. The authorization server sends the browser back to the app's
callback view (:func:`finish_connect`): it checks that the same user comes back for the same
server and leaves the code in the cache, where the waiting authorizer picks it up. The cache is
shared by every Nautobot process, so the callback may land on any worker. The SDK then exchanges
the code (with the PKCE verifier) and the tokens land in the encrypted token table.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import anyio
import anyio.to_thread

from aiops_core.errors import MCPAuthorizationError, UserError

from ..policy import check_oauth_url
from .engine_loop import EngineLoop, get_engine_loop
from .mcp_pools import drop_pools, new_pool
from .mcp_servers import server_config
from .mcp_tokens import delete_tokens

__all__ = [
    "CACHE_PREFIX",
    "Connection",
    "WebAuthorizer",
    "disconnect",
    "finish_connect",
    "start_connect",
]

log = logging.getLogger("aiops_nautobot.mcp")

CACHE_PREFIX = "aiops_nautobot:mcp-oauth:"
SIGN_IN_SECONDS = 300
"""How long an admin has to finish signing in."""
URL_WAIT_SECONDS = 30.0
"""How long the Connect view waits for discovery and registration to produce the sign-in URL."""
POLL_SECONDS = 0.25

_flows: dict[str, concurrent.futures.Future[str]] = {}
"""state -> this process's flow (the callback waits for it when it lands here)."""
_flows_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Connection:
    """What the Connect button led to: a sign-in URL to send the browser to, or a result."""

    sign_in_url: str | None = None
    message: str = ""
    ok: bool = False


def _cache() -> Any:
    from django.core.cache import cache

    return cache


class WebAuthorizer:
    """The :class:`aiops_core.mcp.auth.Authorizer` of the Connect button (see the module doc)."""

    def __init__(self, user_id: Any, server_id: Any, url_ready: concurrent.futures.Future[str]):
        self.user_id = str(user_id)
        self.server_id = str(server_id)
        self.url_ready = url_ready
        self.done: concurrent.futures.Future[str] = concurrent.futures.Future()

    async def authorize(self, server: str, url: str) -> Any:
        from mcp.shared.auth import AuthorizationCodeResult

        check_oauth_url(url)  # the sign-in page the admin's browser is sent to
        state = (parse_qs(urlparse(url).query).get("state") or [""])[0]
        if not state:
            raise MCPAuthorizationError(server, "the sign-in URL carries no state")
        binding = {"user": self.user_id, "server": self.server_id}
        await anyio.to_thread.run_sync(
            _cache().set, f"{CACHE_PREFIX}start:{state}", binding, SIGN_IN_SECONDS
        )
        with _flows_lock:
            _flows[state] = self.done
        self.url_ready.set_result(url)
        try:
            answer = await self._wait(state)
        finally:
            with _flows_lock:
                _flows.pop(state, None)
        if answer.get("error"):
            raise MCPAuthorizationError(server, f"the sign-in was refused ({answer['error']})")
        return AuthorizationCodeResult(
            code=answer["code"], state=answer.get("state"), iss=answer.get("iss")
        )

    async def _wait(self, state: str) -> dict[str, Any]:
        key = f"{CACHE_PREFIX}done:{state}"
        deadline = time.monotonic() + SIGN_IN_SECONDS
        while time.monotonic() < deadline:
            answer = await anyio.to_thread.run_sync(_cache().get, key)
            if answer is not None:
                await anyio.to_thread.run_sync(
                    _cache().delete_many, [key, f"{CACHE_PREFIX}start:{state}"]
                )
                return dict(answer)
            await anyio.sleep(POLL_SECONDS)
        raise MCPAuthorizationError("", "nobody finished signing in in time")


def start_connect(
    row: Any, user: Any, redirect_uri: str, engine: EngineLoop | None = None
) -> Connection:
    """Start signing the app in to the server ``row`` as ``user`` (sync; the Connect view).

    Returns the sign-in URL to send the browser to, or, when no sign-in was needed (stored
    tokens still work) or the flow failed before it, the outcome.
    """
    engine = engine or get_engine_loop()
    try:
        config = server_config(row, redirect_uri=redirect_uri)
    except (UserError, ValueError) as err:
        return Connection(message=f"Cannot connect {row.name}: {err}")
    if config.oauth is None or config.oauth.grant != "authorization_code":
        return Connection(message=f"{row.name} does not use the authorization-code grant.")
    url_ready: concurrent.futures.Future[str] = concurrent.futures.Future()
    authorizer = WebAuthorizer(user.pk, row.pk, url_ready)

    async def flow() -> str:
        try:
            options = {"authorizer": authorizer, "ping_interval": None}
            async with new_pool([config], **options) as pool:
                session = pool.session(config.name)
                if not session.healthy:
                    raise UserError(session.last_error or f"{row.name} did not connect")
            await drop_pools(engine)  # open pools pick the new tokens up
            return f"Connected to {row.name}."
        finally:
            if not url_ready.done():
                url_ready.cancel()

    future = engine.submit(flow())
    future.add_done_callback(lambda f: _settle(authorizer.done, f))
    concurrent.futures.wait([url_ready, future], URL_WAIT_SECONDS, "FIRST_COMPLETED")
    if url_ready.done() and not url_ready.cancelled():
        return Connection(sign_in_url=url_ready.result())
    if not future.done():
        future.cancel()
        return Connection(message=f"{row.name} gave no sign-in page in time; try again.")
    return _outcome(row.name, future)


def finish_connect(
    user: Any, query: dict[str, str], *, wait: float = 60.0
) -> tuple[Any | None, Connection]:
    """Hand the authorization server's answer to the waiting sign-in (sync; the callback view).

    Returns the server's primary key (``None`` when the sign-in is unknown) and the outcome.
    Only the user who pressed Connect may finish it.
    """
    state = query.get("state") or ""
    binding = _cache().get(f"{CACHE_PREFIX}start:{state}") if state else None
    if not binding:
        return None, Connection(message="This sign-in is unknown or has expired; connect again.")
    if binding["user"] != str(user.pk):
        return None, Connection(message="This sign-in was started by another user.")
    answer = {k: query[k] for k in ("code", "state", "iss", "error") if query.get(k)}
    if not answer.get("code") and not answer.get("error"):
        answer["error"] = "no authorization code"
    _cache().set(f"{CACHE_PREFIX}done:{state}", answer, SIGN_IN_SECONDS)
    with _flows_lock:
        local = _flows.get(state)
    if local is None:  # the flow runs in another process: it finishes there
        return binding["server"], Connection(
            message="Sign-in received; the connection completes in the background.", ok=True
        )
    concurrent.futures.wait([local], wait)
    return binding["server"], _outcome("the server", local)


def disconnect(row: Any, engine: EngineLoop | None = None) -> Connection:
    """Forget the server's tokens and client registration; open pools drop their sessions."""
    engine = engine or get_engine_loop()
    deleted = delete_tokens(row.config_name)
    engine.run(drop_pools(engine), timeout=30)
    if not deleted:
        return Connection(message=f"{row.name} had no stored tokens.", ok=True)
    return Connection(message=f"Disconnected {row.name}: its tokens are deleted.", ok=True)


def _settle(target: concurrent.futures.Future[str], source: concurrent.futures.Future[str]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif source.exception() is not None:
        target.set_exception(source.exception())  # type: ignore[arg-type]
    else:
        target.set_result(source.result())


def _outcome(name: str, future: concurrent.futures.Future[str]) -> Connection:
    if not future.done():
        return Connection(message=f"Signing in to {name} is still in progress.")
    if future.cancelled():
        return Connection(message=f"Signing in to {name} was cancelled.")
    err = future.exception()
    if err is not None:
        log.info("MCP OAuth connect failed: %s", err)
        return Connection(message=f"Could not connect: {err}")
    return Connection(message=future.result(), ok=True)
