"""``MCPServerConfig``: how to reach one MCP server, and which of its tools to offer.

The Nautobot app builds these from database rows, the CLI from the ``[[mcp_servers]]`` tables of
its TOML file. Secrets (the auth token, secret-looking headers, environment values) are masked in
``repr`` and in ``model_dump(mode="json")``; :meth:`MCPServerConfig.request_headers` is the one
place that reveals them, to the HTTP transport, and :meth:`MCPServerConfig.scrub` removes them
(every header value included) from error text.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from ..errors import UserError, format_validation_error
from ..masking import MASK, Scrubber, is_secret_name
from .oauth import OAuthConfig
from .sampling import SamplingPolicy

__all__ = ["MCPServerConfig"]

_TRANSPORT_ALIASES = {
    "streamable_http": "http",
    "streamable-http": "http",
    "streamablehttp": "http",
    "https": "http",
}


class MCPServerConfig(BaseModel):
    """One MCP server.

    Attributes:
        name: unique server name (letters, digits, ``_``, ``-``, ``.``); shown to the model.
        transport: ``stdio`` (a local process), ``http`` (streamable HTTP) or ``sse`` (legacy).
        command: stdio: the executable.
        args: stdio: its arguments.
        env: stdio: extra environment variables (values are masked in reprs).
        cwd: stdio: working directory.
        url: http/sse: the server's base URL, e.g. ``https://mcp.example.net``.
        mcp_path: http/sse: the MCP endpoint path appended to ``url`` (``/mcp``; ``/sse`` for sse).
        headers: http/sse: extra request headers (secret-looking values are masked).
        auth_token: http/sse: sent as ``Authorization: Bearer <token>``.
        verify_tls: http/sse: verify the server's certificate (on by default).
        timeout: seconds for one MCP request (a tool call, a listing) and HTTP operations.
        health_check: http: path for ``GET {url}{health_check}``; ``None``: check with an MCP ping.
        enabled: a disabled server is never started.
        type: ``internal`` (run by us) or ``external`` (a third party's); a label for operators.
        allow_tools: offer only these tools (names or ``fnmatch`` patterns); empty: all.
        deny_tools: never offer these tools (names or patterns); wins over ``allow_tools``.
        oauth: http/sse: sign in with OAuth 2.1 (see :class:`~aiops_core.mcp.oauth.OAuthConfig`).
        sampling: whether and how the server may ask the client's model for completions.
        roots: directories or ``file://`` URIs offered to this server as roots.
        log_level: ask the server to send log messages from this level up (``None``: its default).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    transport: Literal["stdio", "http", "sse"] = "stdio"
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, SecretStr] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    mcp_path: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    auth_token: SecretStr | None = None
    verify_tls: bool = True
    timeout: float = Field(default=30.0, gt=0)
    health_check: str | None = "/health"
    enabled: bool = True
    type: Literal["internal", "external"] = "internal"
    allow_tools: list[str] = Field(default_factory=list)
    deny_tools: list[str] = Field(default_factory=list)
    oauth: OAuthConfig | None = None
    sampling: SamplingPolicy = Field(default_factory=SamplingPolicy)
    roots: list[str] = Field(default_factory=list)
    log_level: (
        Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]
        | None
    ) = None

    # ------------------------------------------------------------------ validation
    @field_validator("transport", mode="before")
    @classmethod
    def _transport_alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower()
            return _TRANSPORT_ALIASES.get(key, key)
        return value

    @field_validator("mcp_path", "health_check")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return value or None
        return value if value.startswith("/") else f"/{value}"

    @model_validator(mode="after")
    def _check_transport(self) -> MCPServerConfig:
        if self.transport == "stdio":
            if not self.command:
                raise ValueError(f"server {self.name!r}: a stdio server needs 'command'")
            if self.url:
                raise ValueError(f"server {self.name!r}: 'url' is for http/sse servers, not stdio")
        else:
            if not self.url or not re.match(r"^https?://[^/\s]+", self.url):
                raise ValueError(
                    f"server {self.name!r}: an {self.transport} server needs 'url' "
                    "(http:// or https://)"
                )
            if self.command:
                raise ValueError(f"server {self.name!r}: 'command' is for stdio servers only")
        if self.oauth is not None:
            if self.transport == "stdio":
                raise ValueError(f"server {self.name!r}: 'oauth' is for http/sse servers only")
            if self.auth_token is not None:
                raise ValueError(
                    f"server {self.name!r}: use either 'auth_token' or 'oauth', not both"
                )
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | MCPServerConfig) -> MCPServerConfig:
        """Build a config from plain data, raising :class:`UserError` that says what to fix."""
        if isinstance(data, MCPServerConfig):
            return data
        try:
            return cls.model_validate(dict(data))
        except ValidationError as err:
            name = data.get("name", "?") if isinstance(data, Mapping) else "?"
            problems = format_validation_error(err, root="config")
            raise UserError(f"Invalid MCP server configuration {name!r}: {problems}") from None

    # ------------------------------------------------------------------ derived values
    @property
    def endpoint(self) -> str:
        """The MCP endpoint URL of an http/sse server (``url`` + ``mcp_path``)."""
        if self.url is None:
            raise UserError(f"MCP server {self.name!r} is a stdio server and has no endpoint URL")
        path = self.mcp_path
        if path is None:
            path = "/sse" if self.transport == "sse" else "/mcp"
        return self.url.rstrip("/") + path

    @property
    def health_url(self) -> str | None:
        """``GET`` URL of the health endpoint, or ``None`` (stdio, or no path configured)."""
        if self.transport == "stdio" or not self.health_check or self.url is None:
            return None
        return self.url.rstrip("/") + self.health_check

    def request_headers(self) -> dict[str, str]:
        """The HTTP headers to send, with the secrets revealed (for the transport only)."""
        headers = dict(self.headers)
        if self.auth_token is not None:
            headers["Authorization"] = f"Bearer {self.auth_token.get_secret_value()}"
        return headers

    def environment(self) -> dict[str, str]:
        """The stdio server's extra environment variables, revealed (for the spawn only)."""
        return {key: value.get_secret_value() for key, value in self.env.items()}

    def offers(self, tool_name: str) -> bool:
        """Whether the allow- and deny-lists let ``tool_name`` through."""
        if any(fnmatch.fnmatchcase(tool_name, pattern) for pattern in self.deny_tools):
            return False
        if not self.allow_tools:
            return True
        return any(fnmatch.fnmatchcase(tool_name, pattern) for pattern in self.allow_tools)

    def secret_values(self) -> list[str]:
        """Values that must never reach a message: the auth token, env values, every header
        value, and the OAuth secrets (client secret, private key, ID token, assertion).

        Header values count whatever their name: the Nautobot app reads them all from a Secret.
        """
        values = [value.get_secret_value() for value in self.env.values()]
        values.extend(self.headers.values())
        if self.auth_token is not None:
            values.append(self.auth_token.get_secret_value())
        if self.oauth is not None:
            values.extend(self.oauth.secret_values())
        return values

    def scrub(self, text: str) -> str:
        """``text`` (an error message) with every secret value of this server masked."""
        return Scrubber(self.secret_values())(text)

    # ------------------------------------------------------------------ secrets stay hidden
    @field_serializer("headers")
    def _dump_headers(self, headers: dict[str, str]) -> dict[str, str]:
        return _masked_headers(headers)

    @field_serializer("env", when_used="json")
    def _dump_env(self, env: dict[str, SecretStr]) -> dict[str, str]:
        return dict.fromkeys(env, MASK)

    @field_serializer("auth_token", when_used="json")
    def _dump_token(self, token: SecretStr | None) -> str | None:
        return None if token is None else MASK

    def __repr_args__(self) -> Any:
        for key, value in super().__repr_args__():
            if key == "headers" and isinstance(value, dict):
                yield key, _masked_headers(value)
            elif key == "env" and isinstance(value, dict):
                yield key, dict.fromkeys(value, MASK)
            elif key == "auth_token" and value is not None:
                yield key, MASK
            else:
                yield key, value


def _masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: MASK if is_secret_name(k) else v for k, v in headers.items()}
