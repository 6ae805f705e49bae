"""One server's authorization: its OAuth provider, the sign-in of a person, and 401 reporting.

:class:`SessionAuth` belongs to a :class:`~aiops_core.mcp.session.ServerSession`. It builds the
server's HTTP auth once (so what the SDK discovered, and the tokens it holds, survive reconnects),
suspends the handshake timeout while a person signs in, and turns a failed attempt into
:class:`~aiops_core.errors.MCPAuthorizationError` ("authorization required for server X") when the
server wanted authorization.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from ..errors import MCPAuthorizationError

if TYPE_CHECKING:
    from mcp.shared.auth import AuthorizationCodeResult

    from .auth import Authorizer, AuthWatch
    from .oauth import OAuthConfig
    from .session import ServerSession

__all__ = ["SessionAuth"]


class SessionAuth:
    """Authorization state of one server session."""

    def __init__(self, session: ServerSession) -> None:
        self._session = session
        self._watch: AuthWatch | None = None
        self.authorizing = False
        """A person is signing in to this server right now."""
        self.required = False
        """The last connection attempt failed because the server wants authorization."""
        self.last: MCPAuthorizationError | None = None
        """What that failure said."""

    def watch(self) -> AuthWatch | None:
        """The HTTP auth for a new connection (``None`` for stdio servers)."""
        config = self._session.config
        if config.transport == "stdio":
            return None
        from .auth import AuthWatch, build_auth
        from .tokens import ServerTokenStorage

        if self._watch is None:
            features = self._session.features
            inner = None
            if config.oauth is not None:
                storage = ServerTokenStorage(features.token_store, config.name, config.endpoint)
                authorizer = features.authorizer
                inner = build_auth(
                    config.name,
                    config.endpoint,
                    config.oauth,
                    storage,
                    _Signing(self, authorizer) if authorizer is not None else None,
                )
            self._watch = AuthWatch(inner, features.url_check)
        self._watch.challenged, self._watch.error = False, None
        return self._watch

    @property
    def failed(self) -> bool:
        """Whether the last HTTP exchange was refused for authorization (or its flow failed)."""
        watch = self._watch
        return watch is not None and (watch.challenged or watch.error is not None)

    def describe_failure(self, err: BaseException) -> str:
        """Why a connection attempt failed, naming an authorization problem as such."""
        from .session import describe_error

        auth = _find(err)
        if auth is None and self.failed:
            auth = self.error()
        self.required, self.last = auth is not None, auth
        return str(auth) if auth is not None else describe_error(err)

    def error(self) -> MCPAuthorizationError:
        """The authorization error for the server's latest refusal."""
        from .session import describe_error

        name, watch = self._session.name, self._watch
        if watch is not None and isinstance(watch.error, MCPAuthorizationError):
            return watch.error
        if self._session.config.oauth is None:
            return MCPAuthorizationError(
                name, "the server answered HTTP 401; configure 'oauth' (or 'auth_token') for it"
            )
        detail = describe_error(watch.error) if watch is not None and watch.error else ""
        if self._session.config.oauth.grant == "client_credentials":
            return MCPAuthorizationError(name, refused_client(self._session.config.oauth, detail))
        return MCPAuthorizationError(
            name, f"the sign-in did not succeed ({detail})" if detail else "sign in again"
        )


def refused_client(config: OAuthConfig, detail: str = "") -> str:
    """The hint for a client-credentials client the authorization server did not accept."""
    credential = "private_key" if config.private_key is not None else "client_secret"
    because = f" ({detail})" if detail else ""
    return (
        f"the authorization server did not grant client {config.client_id!r} a token{because}; "
        f"check its client_id and {credential}"
    )


class _Signing:
    """Wraps the authorizer: while a person signs in, the handshake timeout is suspended."""

    def __init__(self, auth: SessionAuth, inner: Authorizer) -> None:
        self._auth = auth
        self._inner = inner

    async def authorize(self, server: str, url: str) -> AuthorizationCodeResult:
        session = self._auth._session
        scope = session.startup_deadline()
        if scope is not None:
            scope.deadline = float("inf")
        self._auth.authorizing = True
        try:
            return await self._inner.authorize(server, url)
        finally:
            self._auth.authorizing = False
            if scope is not None:
                scope.deadline = anyio.current_time() + session.startup_timeout


def _find(err: BaseException | None) -> MCPAuthorizationError | None:
    """The first :class:`MCPAuthorizationError` in ``err``, its causes and exception groups."""
    seen: set[int] = set()
    stack: list[Any] = [err]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, MCPAuthorizationError):
            return item
        if isinstance(item, BaseExceptionGroup):
            stack.extend(item.exceptions)
        stack.extend((item.__cause__, item.__context__))
    return None
