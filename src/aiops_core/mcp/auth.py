"""OAuth for MCP servers, on the ``mcp`` SDK's client providers.

:func:`build_auth` turns a server's :class:`~aiops_core.mcp.oauth.OAuthConfig` into one of the SDK's
``httpx2.Auth`` providers (``OAuthClientProvider``, ``ClientCredentialsOAuthProvider``,
``PrivateKeyJWTOAuthProvider``, ``IdentityAssertionOAuthProvider``). The SDK does discovery,
registration, PKCE, scope selection and step-up, the ``resource`` parameter and refresh; this module
adds what an application needs around it:

- an :class:`Authorizer` that brings a person through the browser step (the CLI's serves the
  callback on 127.0.0.1, see :mod:`aiops_core.mcp.loopback`); without one, a server that needs a
  sign-in fails with :class:`~aiops_core.errors.MCPAuthorizationError` instead of waiting;
- tokens in a :class:`~aiops_core.mcp.tokens.TokenStore`, with their expiry kept across processes;
- :class:`AuthWatch`, which notices the endpoint's 401 so the pool can say "authorization required
  for server X" rather than a generic HTTP error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import httpx2

from ..errors import MCPAuthorizationError, MCPConnectionError
from .oauth import OAuthConfig
from .tokens import ServerTokenStorage

if TYPE_CHECKING:
    from mcp.shared.auth import AuthorizationCodeResult

__all__ = [
    "AuthWatch",
    "Authorizer",
    "build_auth",
    "discover_authorization_server",
    "token_exchange_assertion",
]

_SDK_AUTH_LOGGER = "mcp.client.auth.oauth2"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"


class Authorizer(Protocol):
    """Brings a person through the browser step of the authorization-code grant.

    ``authorize`` shows ``url`` to the person (prints it, opens a browser, renders a button),
    waits for the authorization server to send the browser back to the ``redirect_uri`` named in
    ``url``'s query, and returns the ``code``, ``state`` and ``iss`` it carried. It raises
    :class:`~aiops_core.errors.MCPAuthorizationError` when the person declines or time runs out.
    """

    async def authorize(self, server: str, url: str) -> AuthorizationCodeResult: ...


class _QuietAuthorizationRequired(logging.Filter):
    """The SDK logs every failed flow with a traceback; ours says it in one line already."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, MCPAuthorizationError)


_QUIET = _QuietAuthorizationRequired()


@functools.cache
def _sdk_providers() -> dict[str, type[Any]]:
    """The SDK provider classes, each with the stored-expiry fix mixed in (imported lazily)."""
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.auth.extensions.client_credentials import (
        ClientCredentialsOAuthProvider,
        PrivateKeyJWTOAuthProvider,
    )

    class _StoredExpiry:
        """Give tokens loaded from the store their remaining lifetime.

        The SDK only computes an expiry time for tokens it has just received; a token loaded from
        storage would count as valid forever and be sent until the server refuses it, which
        starts a new sign-in where a refresh would have done.
        """

        context: Any

        async def _initialize(self) -> None:
            await super()._initialize()  # type: ignore[misc]
            tokens = self.context.current_tokens
            if tokens is not None and tokens.expires_in is not None:
                self.context.update_token_expiry(tokens)

    class CodeProvider(_StoredExpiry, OAuthClientProvider):
        def __init__(self, *args: Any, fixed_client: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._fixed_client = fixed_client

        async def _initialize(self) -> None:
            await super()._initialize()
            if self._fixed_client is not None:  # a pre-registered client wins over a stored one
                self.context.client_info = self._fixed_client

    class SecretProvider(_StoredExpiry, ClientCredentialsOAuthProvider):
        pass

    class KeyProvider(_StoredExpiry, PrivateKeyJWTOAuthProvider):
        pass

    return {"code": CodeProvider, "secret": SecretProvider, "key": KeyProvider}


def build_auth(
    server: str,
    endpoint: str,
    config: OAuthConfig,
    storage: ServerTokenStorage,
    authorizer: Authorizer | None = None,
    *,
    http_client: Callable[[], httpx2.AsyncClient] | None = None,
) -> httpx2.Auth:
    """The SDK provider for one server's OAuth settings.

    Args:
        server: the server's name (messages, the authorizer).
        endpoint: the MCP endpoint URL (the protected resource).
        config: the server's OAuth settings.
        storage: the server's token storage.
        authorizer: brings a person through the browser step; ``None``: a sign-in that needs a
            person raises :class:`~aiops_core.errors.MCPAuthorizationError`.
        http_client: makes the client for the identity provider's token exchange (tests).
    """
    from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata

    logger = logging.getLogger(_SDK_AUTH_LOGGER)
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)
    providers = _sdk_providers()
    secret = config.client_secret.get_secret_value() if config.client_secret else None
    if config.grant == "client_credentials":
        assert config.client_id is not None  # checked by OAuthConfig
        if config.private_key is not None:
            from mcp.client.auth.extensions.client_credentials import SignedJWTParameters

            signer = SignedJWTParameters(
                issuer=config.client_id,
                subject=config.client_id,
                signing_key=config.private_key.get_secret_value(),
                signing_algorithm=config.signing_algorithm,
            )
            return _without_issuer_warning(
                providers["key"],
                server_url=endpoint,
                storage=storage,
                client_id=config.client_id,
                assertion_provider=signer.create_assertion_provider(),
                scope=config.scope,
                issuer=config.issuer,
            )
        method = config.auth_method()
        return _without_issuer_warning(
            providers["secret"],
            server_url=endpoint,
            storage=storage,
            client_id=config.client_id,
            client_secret=secret or "",
            token_endpoint_auth_method="client_secret_post"
            if method == "client_secret_post"
            else "client_secret_basic",
            scope=config.scope,
            issuer=config.issuer,
        )
    if config.grant == "jwt_bearer":
        from mcp.client.auth.extensions.identity_assertion import IdentityAssertionOAuthProvider

        assert config.client_id and secret and config.issuer  # checked by OAuthConfig
        method = config.auth_method()
        return IdentityAssertionOAuthProvider(
            server_url=endpoint,
            storage=storage,
            client_id=config.client_id,
            client_secret=secret,
            issuer=config.issuer,
            assertion_provider=_assertion_source(config, http_client),
            scope=config.scope,
            token_endpoint_auth_method="client_secret_post"
            if method == "client_secret_post"
            else "client_secret_basic",
        )

    fixed = None
    if config.client_id:
        fixed = OAuthClientInformationFull(
            client_id=config.client_id,
            client_secret=secret,
            redirect_uris=[config.redirect_uri],  # type: ignore[list-item]
            token_endpoint_auth_method=config.auth_method(),
            grant_types=["authorization_code", "refresh_token"],
        )
    metadata = OAuthClientMetadata(
        redirect_uris=[config.redirect_uri],  # type: ignore[list-item]
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        client_name=config.client_name,
        scope=config.scope,
    )
    handoff = _Handoff(server, authorizer)
    provider: httpx2.Auth = providers["code"](
        server_url=endpoint,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=handoff.redirect,
        callback_handler=handoff.callback,
        client_metadata_url=config.client_metadata_url,
        fixed_client=fixed,
    )
    return provider


def _without_issuer_warning(cls: type[Any], **kwargs: Any) -> httpx2.Auth:
    """Build a client-credentials provider; the SDK warns (deprecated) when no issuer is set."""
    import warnings

    from mcp.shared.exceptions import MCPDeprecationWarning

    if kwargs.get("issuer") is not None:
        provider: httpx2.Auth = cls(**kwargs)
        return provider
    with warnings.catch_warnings():
        # Configuration without an issuer is allowed (the server's metadata names it); the
        # documentation recommends setting it.
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        provider = cls(**kwargs)
    return provider


class _Handoff:
    """The SDK's redirect/callback handler pair, backed by one :class:`Authorizer` call."""

    def __init__(self, server: str, authorizer: Authorizer | None) -> None:
        self._server = server
        self._authorizer = authorizer
        self._result: AuthorizationCodeResult | None = None

    async def redirect(self, url: str) -> None:
        if self._authorizer is None:
            raise MCPAuthorizationError(
                self._server,
                "the server wants a person to sign in and no sign-in is possible here "
                f"(CLI: run `aiops mcp login {self._server}`)",
            )
        self._result = await self._authorizer.authorize(self._server, url)

    async def callback(self) -> AuthorizationCodeResult:
        result, self._result = self._result, None
        if result is None:  # pragma: no cover - the SDK always calls redirect() first
            raise MCPAuthorizationError(self._server, "no authorization response was received")
        return result


def _assertion_source(
    config: OAuthConfig, http_client: Callable[[], httpx2.AsyncClient] | None
) -> Callable[[str, str], Awaitable[str]]:
    if config.assertion is not None:
        assertion = config.assertion.get_secret_value()

        async def fixed(audience: str, resource: str) -> str:
            return assertion

        return fixed
    assert config.idp_token_endpoint and config.id_token  # checked by OAuthConfig
    return token_exchange_assertion(
        config.idp_token_endpoint,
        id_token=config.id_token.get_secret_value(),
        client_id=config.idp_client_id,
        client_secret=config.idp_client_secret.get_secret_value()
        if config.idp_client_secret
        else None,
        scope=config.scope,
        http_client=http_client,
    )


def token_exchange_assertion(
    token_endpoint: str,
    *,
    id_token: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    scope: str | None = None,
    http_client: Callable[[], httpx2.AsyncClient] | None = None,
) -> Callable[[str, str], Awaitable[str]]:
    """An ID-JAG source: RFC 8693 token exchange of the user's ID token at the identity provider.

    The result is an ``assertion_provider(audience, resource)`` for the SDK's
    ``IdentityAssertionOAuthProvider`` (the identity provider's leg of SEP-990, which the SDK leaves
    to the application).
    """

    async def exchange(audience: str, resource: str) -> str:
        data = {
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": id_token,
            "subject_token_type": ID_TOKEN,
            "requested_token_type": ID_JAG,
            "audience": audience,
            "resource": resource,
        }
        if scope:
            data["scope"] = scope
        auth: tuple[str, str] | None = None
        if client_id and client_secret:
            auth = (client_id, client_secret)
        elif client_id:
            data["client_id"] = client_id
        client = http_client() if http_client else httpx2.AsyncClient(timeout=30.0)
        async with client:
            response = await client.post(
                token_endpoint, data=data, auth=auth or httpx2.USE_CLIENT_DEFAULT
            )
        if response.status_code != 200:
            raise MCPConnectionError(
                f"the identity provider refused the token exchange (HTTP {response.status_code})"
            )
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or body.get("issued_token_type") not in (None, ID_JAG):
            raise MCPConnectionError("the identity provider's token exchange returned no ID-JAG")
        return token

    return exchange


async def discover_authorization_server(
    endpoint: str, *, http_client: httpx2.AsyncClient | None = None
) -> str | None:
    """The first authorization server named by an MCP endpoint's protected-resource metadata.

    For setting up ``issuer`` (the ``jwt_bearer`` grant takes it from configuration, never from
    the server at run time). ``None`` when the server publishes no metadata.
    """
    from mcp.client.auth.utils import (
        build_protected_resource_metadata_discovery_urls,
        handle_protected_resource_response,
    )

    client = http_client or httpx2.AsyncClient(timeout=30.0)
    try:
        for url in build_protected_resource_metadata_discovery_urls(None, endpoint):
            metadata = await handle_protected_resource_response(await client.get(url))
            if metadata is not None:
                return str(metadata.authorization_servers[0])
    finally:
        if http_client is None:
            await client.aclose()
    return None


class AuthWatch(httpx2.Auth):
    """Wraps a server's auth (or none) and remembers how the endpoint last answered.

    ``challenged`` is true while the endpoint's latest answer was 401 (or a 403 asking for more
    scope); ``error`` holds an exception an OAuth flow raised. The pool reads both to report
    "authorization required" instead of a generic HTTP failure.

    ``url_check``, when given, sees the URL of every request an OAuth flow makes on its own
    (metadata discovery, registration, token endpoints: hosts the server names, not the operator)
    before it is sent, and refuses it by raising.
    """

    requires_response_body = True

    def __init__(
        self, inner: httpx2.Auth | None = None, url_check: Callable[[str], None] | None = None
    ) -> None:
        self.inner = inner
        self.url_check = url_check
        self.challenged = False
        self.error: BaseException | None = None

    def _seen(self, response: httpx2.Response) -> None:
        if response.status_code == 401 or (
            response.status_code == 403
            and "insufficient_scope" in response.headers.get("www-authenticate", "")
        ):
            self.challenged = True
        elif response.is_success:
            self.challenged, self.error = False, None

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        if self.inner is None:
            response = yield request
            self._seen(response)
            return
        flow = self.inner.async_auth_flow(request)
        last: httpx2.Response | None = None
        try:
            outgoing = await flow.__anext__()
            while True:
                if outgoing is not request and self.url_check is not None:
                    self.url_check(str(outgoing.url))
                last = yield outgoing
                outgoing = await flow.asend(last)
        except StopAsyncIteration:
            if last is not None:
                self._seen(last)
        except Exception as err:
            self.error = err
            raise
        finally:
            await flow.aclose()
