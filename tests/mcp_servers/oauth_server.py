"""An OAuth-protected MCP server with its own authorization server, on the mcp SDK's server auth.

``python tests/mcp_servers/oauth_server.py PORT [--expires-in S] [--deny]
[--client ID=SECRET]... [--key-client ID=PUBLIC_KEY_PEM_FILE]...``

Serves streamable HTTP at ``/mcp`` (bearer token required, scope ``mcp``), protected-resource
and authorization-server metadata, dynamic client registration, ``/authorize`` (consents at once,
like a person clicking "Allow"; with ``--deny`` refuses, like one clicking "Deny"), ``/token``
``GET /health`` (open) and ``GET /stats`` (counts of authorizations, code exchanges, refreshes, client-credentials
grants and refused client authentications, for tests). Tools: ``whoami`` (the token's client
id), ``echo``.

``/token`` grants: authorization code with PKCE and refresh (the SDK's handler), and
``client_credentials`` (RFC 6749 4.4, which the SDK's server does not implement) for the
pre-registered clients of ``--client`` (``client_secret_basic`` or ``client_secret_post``) and
``--key-client`` (``private_key_jwt``: an RFC 7523 client assertion signed with the private key
of the registered public key, ``iss`` = ``sub`` = the client id, ``aud`` = the issuer, each ``jti``
once). Client-credentials grants get an access token and no refresh token (RFC 6749 4.4.3).
"""

from __future__ import annotations

import argparse
import base64
import hmac
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import jwt
import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    AuthorizeError,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.routes import build_metadata, cors_middleware
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import AnyHttpUrl
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class Provider:
    """In-memory authorization server that consents on its user's behalf."""

    def __init__(self, expires_in: int, deny: bool) -> None:
        self.expires_in = expires_in
        self.deny = deny
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.stats = {
            "authorizations": 0,
            "code_exchanges": 0,
            "refreshes": 0,
            "registrations": 0,
            "client_credentials": 0,
            "client_auth_failures": 0,
        }

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.stats["registrations"] += 1
        self.clients[client_info.client_id] = client_info

    async def authorize(
        self, client: OAuthClientInformationFull, params: AuthorizationParams
    ) -> str:
        self.stats["authorizations"] += 1
        if self.deny:
            raise AuthorizeError("access_denied", "the user said no")
        code = secrets.token_urlsafe(24)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or ["mcp"],
            expires_at=time.time() + 300,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client, authorization_code: str):
        return self.codes.get(authorization_code)

    def _issue(
        self, client_id: str, scopes: list[str], resource: str | None, refresh: bool = True
    ) -> OAuthToken:
        access = f"at-{secrets.token_hex(12)}"
        self.access[access] = AccessToken(
            token=access,
            client_id=client_id,
            scopes=scopes,
            expires_at=int(time.time()) + self.expires_in,
            resource=resource,
        )
        refresh_token = None
        if refresh:
            refresh_token = f"rt-{secrets.token_hex(12)}"
            self.refresh[refresh_token] = RefreshToken(
                token=refresh_token, client_id=client_id, scopes=scopes, resource=resource
            )
        return OAuthToken(
            access_token=access,
            expires_in=self.expires_in,
            scope=" ".join(scopes),
            refresh_token=refresh_token,
        )

    async def exchange_authorization_code(self, client, authorization_code: AuthorizationCode):
        self.stats["code_exchanges"] += 1
        self.codes.pop(authorization_code.code, None)
        return self._issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(self, client, refresh_token: str):
        return self.refresh.get(refresh_token)

    async def exchange_refresh_token(self, client, refresh_token: RefreshToken, scopes):
        self.stats["refreshes"] += 1
        self.refresh.pop(refresh_token.token, None)
        return self._issue(client.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        found = self.access.get(token)
        if found is None or (found.expires_at is not None and found.expires_at < time.time()):
            return None
        return found

    async def revoke_token(self, token) -> None:
        self.access.pop(token.token, None)
        self.refresh.pop(token.token, None)


class TokenError(Exception):
    """An RFC 6749 5.2 error answer of the token endpoint."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class ClientCredentials:
    """``/token`` with the ``client_credentials`` grant; other grants go on to the SDK's handler.

    Args:
        inner: the SDK's token endpoint (ASGI).
        provider: issues the tokens and counts.
        issuer: this authorization server's issuer identifier (the assertions' audience).
        secrets_by_client: client id -> secret (``client_secret_basic``/``_post``).
        keys_by_client: client id -> PEM public key (``private_key_jwt``).
    """

    def __init__(
        self,
        inner: ASGIApp,
        provider: Provider,
        issuer: str,
        secrets_by_client: dict[str, str],
        keys_by_client: dict[str, str],
    ) -> None:
        self.inner = inner
        self.provider = provider
        self.audiences = {issuer, f"{issuer}/", f"{issuer}/token"}
        self.secrets = secrets_by_client
        self.keys = keys_by_client
        self.seen_jti: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.inner(scope, receive, send)
            return
        body = b""
        while True:  # the body is small (the SDK's size limit sits inside ``inner``)
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
        if form.get("grant_type") != "client_credentials":
            await self.inner(scope, _replay(body), send)
            return
        try:
            response = self.grant(Request(scope), form)
        except TokenError as err:
            if err.status == 401:
                self.provider.stats["client_auth_failures"] += 1
            response = JSONResponse(
                {"error": err.error, "error_description": err.description},
                status_code=err.status,
                headers={"Cache-Control": "no-store"},
            )
        await response(scope, receive, send)

    def grant(self, request: Request, form: dict[str, str]) -> Response:
        client_id = self.authenticate(request, form)
        wanted = form.get("scope", "").split() or ["mcp"]
        if any(s != "mcp" for s in wanted):
            raise TokenError("invalid_scope", f"only scope 'mcp' is granted, not {wanted}")
        self.provider.stats["client_credentials"] += 1
        token = self.provider._issue(client_id, wanted, form.get("resource"), refresh=False)
        return JSONResponse(
            token.model_dump(mode="json", exclude_none=True),
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def authenticate(self, request: Request, form: dict[str, str]) -> str:
        """The pre-registered client the request authenticates as (RFC 6749 2.3, RFC 7523 2.2)."""
        header = request.headers.get("authorization", "")
        if form.get("client_assertion_type") == ASSERTION_TYPE:
            return self.by_assertion(form.get("client_assertion", ""))
        if header.startswith("Basic "):
            try:
                pair = base64.b64decode(header[6:], validate=True).decode()
                client_id, secret = (unquote(part) for part in pair.split(":", 1))
            except ValueError as err:
                raise TokenError("invalid_client", "malformed Basic credentials", 401) from err
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        expected = self.secrets.get(client_id)
        if expected is None or not hmac.compare_digest(secret.encode(), expected.encode()):
            raise TokenError("invalid_client", "client authentication failed", 401)
        return client_id

    def by_assertion(self, assertion: str) -> str:
        try:
            claimed = jwt.decode(assertion, options={"verify_signature": False})
            client_id = str(claimed.get("sub", ""))
            key = self.keys.get(client_id)
            if key is None:
                raise TokenError("invalid_client", "unknown client", 401)
            claims = jwt.decode(
                assertion,
                key,
                algorithms=SIGNING_ALGORITHMS,
                audience=list(self.audiences),
                issuer=client_id,
                options={"require": ["iss", "sub", "aud", "exp", "jti"]},
            )
        except jwt.PyJWTError as err:
            raise TokenError("invalid_client", f"client assertion refused ({err})", 401) from err
        if claims["jti"] in self.seen_jti:
            raise TokenError("invalid_client", "client assertion replayed", 401)
        self.seen_jti.add(claims["jti"])
        return client_id


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _metadata_with_client_credentials(issuer: str) -> ASGIApp:
    """The SDK's authorization-server metadata, also naming the client-credentials grant.

    ``issuer`` is written exactly as the protected-resource metadata names the authorization
    server (no trailing slash): a client configured with that issuer compares the two as plain
    strings (RFC 8414 3.3). The SDK's own metadata renders a root issuer with a slash.
    """
    metadata = build_metadata(
        AnyHttpUrl(issuer),
        None,
        ClientRegistrationOptions(enabled=True, valid_scopes=["mcp"], default_scopes=["mcp"]),
        RevocationOptions(),
    ).model_dump(mode="json", exclude_none=True)
    metadata["issuer"] = issuer
    metadata["grant_types_supported"].append("client_credentials")
    metadata["token_endpoint_auth_methods_supported"].append("private_key_jwt")
    metadata["token_endpoint_auth_signing_alg_values_supported"] = SIGNING_ALGORITHMS

    async def handle(request: Request) -> Response:
        return JSONResponse(metadata, headers={"Cache-Control": "public, max-age=3600"})

    return cors_middleware(handle, ["GET", "OPTIONS"])


def build(
    port: int,
    expires_in: int = 3600,
    deny: bool = False,
    clients: dict[str, str] | None = None,
    key_clients: dict[str, str] | None = None,
):
    """The app. ``clients``: pre-registered client id -> secret; ``key_clients``: client id ->
    PEM public key (``private_key_jwt``)."""
    base = f"http://127.0.0.1:{port}"
    provider = Provider(expires_in, deny)
    clients, key_clients = clients or {}, key_clients or {}
    for client_id, secret in clients.items():
        provider.clients[client_id] = OAuthClientInformationFull(
            client_id=client_id,
            client_secret=secret,
            grant_types=["client_credentials"],
            token_endpoint_auth_method="client_secret_basic",
        )
    for client_id in key_clients:
        provider.clients[client_id] = OAuthClientInformationFull(
            client_id=client_id,
            grant_types=["client_credentials"],
            token_endpoint_auth_method="private_key_jwt",
        )
    server = MCPServer(
        "oauth-test",
        auth_server_provider=provider,
        auth=AuthSettings(
            issuer_url=base,
            resource_server_url=f"{base}/mcp",
            validate_token_resource=True,
            required_scopes=["mcp"],
            client_registration_options=ClientRegistrationOptions(
                enabled=True, valid_scopes=["mcp"], default_scopes=["mcp"]
            ),
        ),
    )

    @server.tool()
    def whoami() -> str:
        """The OAuth client this call was authorized for."""
        token = get_access_token()
        return token.client_id if token else "nobody"

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.custom_route("/health", methods=["GET"])
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})  # open, as a load balancer's probe would be

    @server.custom_route("/stats", methods=["GET"])
    async def stats(request: Request) -> Response:
        return JSONResponse(provider.stats)

    app = server.streamable_http_app()
    for route in app.router.routes:
        path = getattr(route, "path", None)
        if path == "/token":
            route.app = ClientCredentials(route.app, provider, base, clients, key_clients)
        elif path == "/.well-known/oauth-authorization-server":
            route.app = _metadata_with_client_credentials(base)
    return app


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        client_id, sep, rest = value.partition("=")
        if not (client_id and sep and rest):
            raise SystemExit(f"{flag} takes ID=VALUE, got {value!r}")
        pairs[client_id] = rest
    return pairs


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--expires-in", type=int, default=3600)
    parser.add_argument("--deny", action="store_true")
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID=SECRET",
        help="a pre-registered client-credentials client with a secret (repeatable)",
    )
    parser.add_argument(
        "--key-client",
        action="append",
        default=[],
        metavar="ID=PEM_FILE",
        help="a pre-registered private_key_jwt client and its public key file (repeatable)",
    )
    args = parser.parse_args()
    keys = {
        client_id: Path(path).read_text()
        for client_id, path in _pairs(args.key_client, "--key-client").items()
    }
    uvicorn.run(
        build(args.port, args.expires_in, args.deny, _pairs(args.client, "--client"), keys),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="on",
    )
