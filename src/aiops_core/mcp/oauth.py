"""``OAuthConfig``: how the client authorizes itself to one MCP server (OAuth 2.1).

The flows themselves are the ``mcp`` SDK's (see :mod:`aiops_core.mcp.auth`); this model only
says which one to use and with what. Three grants:

- ``authorization_code`` (default): a person signs in once in a browser; discovery of the
  server's protected-resource and authorization-server metadata, dynamic client registration
  (or a pre-registered ``client_id``, or a client ID metadata document URL), PKCE, scopes from
  ``WWW-Authenticate`` with step-up, the ``resource`` parameter and refresh all happen in the SDK.
- ``client_credentials``: unattended; a ``client_secret`` or a ``private_key`` (private-key JWT).
- ``jwt_bearer``: enterprise-managed authorization (SEP-990): an identity assertion grant (ID-JAG)
  obtained from the company's identity provider by token exchange, presented to the server's
  authorization server at ``issuer``.

Secrets (client secret, private key, ID token) are ``SecretStr``: masked in reprs and dumps.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["DEFAULT_REDIRECT_URI", "OAuthConfig"]

DEFAULT_REDIRECT_URI = "http://127.0.0.1:33418/callback"
"""Where the browser returns after sign-in: the CLI serves this on 127.0.0.1."""

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class OAuthConfig(BaseModel):
    """OAuth settings of one MCP server (the ``oauth`` table of ``[[mcp_servers]]``).

    Attributes:
        grant: ``authorization_code``, ``client_credentials`` or ``jwt_bearer``.
        client_id: a pre-registered client; without it the client registers itself (dynamic
            client registration) or uses ``client_metadata_url``.
        client_secret: the pre-registered client's secret (confidential clients).
        private_key: PEM private key for ``private_key_jwt`` client authentication
            (``client_credentials`` only).
        signing_algorithm: JWT algorithm for ``private_key`` (``RS256``, ``ES256``, ...).
        token_endpoint_auth_method: how a pre-registered client authenticates at the token
            endpoint (default ``client_secret_basic`` with a secret, ``none`` without).
        scope: scopes to ask for (space separated); the server's ``WWW-Authenticate`` challenge
            and metadata take over when they name scopes.
        client_metadata_url: an HTTPS URL of this client's metadata document, used as the client
            ID where the authorization server supports client ID metadata documents.
        redirect_uri: ``authorization_code``: the URL the browser returns to: loopback http
            for the CLI, or an https URL of a web application.
        client_name: the name shown on the consent screen.
        issuer: the authorization server this client belongs to. Recommended for
            ``client_credentials`` (credentials are then only ever sent there); required for
            ``jwt_bearer``.
        idp_token_endpoint: ``jwt_bearer``: the identity provider's token endpoint.
        idp_client_id: ``jwt_bearer``: this client's ID at the identity provider.
        idp_client_secret: ``jwt_bearer``: its secret there, if it has one.
        id_token: ``jwt_bearer``: the user's ID token from the identity provider.
        assertion: ``jwt_bearer``: a ready ID-JAG instead of the token exchange.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    grant: Literal["authorization_code", "client_credentials", "jwt_bearer"] = "authorization_code"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    private_key: SecretStr | None = None
    signing_algorithm: str = "RS256"
    token_endpoint_auth_method: (
        Literal["client_secret_basic", "client_secret_post", "none"] | None
    ) = None
    scope: str | None = None
    client_metadata_url: str | None = None
    redirect_uri: str = DEFAULT_REDIRECT_URI
    client_name: str = "aiops"
    issuer: str | None = None
    idp_token_endpoint: str | None = None
    idp_client_id: str | None = None
    idp_client_secret: SecretStr | None = None
    id_token: SecretStr | None = None
    assertion: SecretStr | None = None
    timeout: float = Field(default=300.0, gt=0)
    """Seconds to wait for a person to finish signing in."""

    @field_validator("redirect_uri")
    @classmethod
    def _loopback(cls, value: str) -> str:
        # OAuth 2.1: a loopback http URL (the CLI serves the callback there) or an https URL (a
        # web application's own callback, e.g. the Nautobot app's).
        url = urlparse(value)
        if url.scheme == "https" and url.hostname:
            return value
        if url.scheme != "http" or url.hostname not in _LOOPBACK or not url.port:
            raise ValueError(
                "redirect_uri must be a loopback URL with a port, e.g. "
                f"{DEFAULT_REDIRECT_URI} (the CLI serves the callback there), or an https URL"
            )
        return value

    @field_validator("client_metadata_url")
    @classmethod
    def _https_document(cls, value: str | None) -> str | None:
        if value is not None:
            url = urlparse(value)
            if url.scheme != "https" or url.path in ("", "/"):
                raise ValueError("client_metadata_url must be an https URL with a path")
        return value

    @field_validator("issuer", "idp_token_endpoint")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and urlparse(value).scheme not in ("http", "https"):
            raise ValueError("must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _check_grant(self) -> OAuthConfig:
        if self.grant == "client_credentials":
            if not self.client_id or (self.client_secret is None) == (self.private_key is None):
                raise ValueError(
                    "the client_credentials grant needs client_id and either client_secret "
                    "or private_key"
                )
        elif self.private_key is not None:
            raise ValueError("private_key is for the client_credentials grant only")
        if self.grant == "jwt_bearer":
            missing = [
                name
                for name, value in (
                    ("client_id", self.client_id),
                    ("client_secret", self.client_secret),
                    ("issuer", self.issuer),
                )
                if not value
            ]
            if self.assertion is None and not (self.idp_token_endpoint and self.id_token):
                missing.append("assertion (or idp_token_endpoint and id_token)")
            if missing:
                raise ValueError(f"the jwt_bearer grant needs {', '.join(missing)}")
        if self.client_secret is not None and not self.client_id:
            raise ValueError("client_secret needs client_id")
        return self

    def secret_values(self) -> list[str]:
        """The secrets these settings hold, revealed (for scrubbing messages only)."""
        secrets = (
            self.client_secret,
            self.private_key,
            self.idp_client_secret,
            self.id_token,
            self.assertion,
        )
        return [s.get_secret_value() for s in secrets if s is not None]

    def auth_method(self) -> Literal["client_secret_basic", "client_secret_post", "none"]:
        """The token endpoint authentication of a pre-registered client."""
        if self.token_endpoint_auth_method is not None:
            return self.token_endpoint_auth_method
        return "client_secret_basic" if self.client_secret is not None else "none"
