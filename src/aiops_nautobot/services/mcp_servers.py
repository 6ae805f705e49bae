"""``MCPServer`` rows as :class:`aiops_core.mcp.MCPServerConfig` objects.

Every row is checked against the operator's policy again here, when it is used: a row written
around validation (a bulk update, an older row after the policy changed) is refused, not run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from aiops_core.errors import UserError

from ..choices import MCPOAuthGrantChoices, MCPProtocolChoices, MCPServerStatusChoices
from ..policy import check_mcp_urls, may_forward_token, stdio_command
from .errors import NotConfiguredError
from .model_choice import tenant_rows
from .secret_values import secret_json_object, secret_value

if TYPE_CHECKING:
    from aiops_core.mcp import MCPServerConfig

    from ..models import MCPServer
    from ..security_config import StdioCommand

__all__ = ["healthy_server_configs", "oauth_values", "server_config", "unique_names"]

log = logging.getLogger("aiops_nautobot.mcp")

FORWARDED_TOKEN_HEADER = "Authorization"


def server_config(
    row: MCPServer, *, user_token: str | None = None, redirect_uri: str | None = None
) -> MCPServerConfig:
    """The engine config of one server row.

    A stdio row runs the operator's command of its ``command_name``; an HTTP row's URLs must be
    allowed. Headers come from the row's ``headers_secret`` (a JSON object). The user's own
    Nautobot API token is added only when :func:`aiops_nautobot.policy.may_forward_token` allows
    it. A row with an OAuth grant gets its OAuth settings (:func:`oauth_values`).

    Raises:
        UserError: the row is refused by the policy, or its secrets cannot be read.
    """
    from aiops_core.mcp import MCPServerConfig

    values: dict[str, Any] = {
        "name": row.config_name,
        "transport": row.protocol,
        "timeout": float(row.timeout_seconds or 30),
        "type": row.server_type,
        "allow_tools": list(row.allowed_tools or []),
        "deny_tools": list(row.denied_tools or []),
    }
    if row.protocol == MCPProtocolChoices.STDIO:
        values.update(_stdio_values(row, stdio_command(row.command_name)))
    else:
        check_mcp_urls(row)
        headers: dict[str, str] = {}
        if row.headers_secret is not None:
            headers = secret_json_object(
                row.headers_secret, row, f"MCP server {row.name!r} headers"
            )
        if user_token and may_forward_token(row):
            headers[FORWARDED_TOKEN_HEADER] = f"Token {user_token}"
        values.update(
            url=row.url or None,
            mcp_path=row.mcp_endpoint or None,
            health_check=row.health_check or None,
            headers=headers,
            verify_tls=row.verify_tls,
            oauth=oauth_values(row, redirect_uri=redirect_uri),
        )
    return MCPServerConfig.from_dict(values)


def oauth_values(row: MCPServer, *, redirect_uri: str | None = None) -> dict[str, Any] | None:
    """The :class:`aiops_core.mcp.OAuthConfig` fields of a row (``None``: no OAuth).

    ``redirect_uri`` is where an admin's browser returns after signing in (the app's callback
    view); only the Connect flow needs it.
    """
    if row.oauth_grant in ("", MCPOAuthGrantChoices.NONE):
        return None
    values: dict[str, Any] = {
        "grant": row.oauth_grant,
        "client_id": row.oauth_client_id or None,
        "scope": row.oauth_scopes or None,
        "client_name": "Nautobot AI Ops",
    }
    if redirect_uri:
        values["redirect_uri"] = redirect_uri
    if row.oauth_secret is not None:
        secret = secret_value(row.oauth_secret, row, f"MCP server {row.name!r} OAuth secret")
        values["private_key" if row.oauth_private_key else "client_secret"] = secret
    return values


def _stdio_values(row: MCPServer, command: StdioCommand) -> dict[str, Any]:
    from nautobot.extras.models import Secret

    env: dict[str, str] = {}
    for variable, value in command.env.items():
        if isinstance(value, str):
            env[variable] = value
            continue
        secret = Secret.objects.filter(name=value.secret).first()
        if secret is None:
            raise NotConfiguredError(
                f"stdio command {command.name!r}: the Secret {value.secret!r} named for "
                f"{variable} does not exist"
            )
        env[variable] = secret_value(secret, row, f"stdio command {command.name!r} {variable}")
    return {
        "command": command.argv[0],
        "args": list(command.argv[1:]),
        "env": env,
        "cwd": command.cwd,
        "health_check": None,
    }


def unique_names(rows: Iterable[MCPServer]) -> Iterator[MCPServer]:
    """The rows whose engine name is not taken by an earlier row (a clash is logged, skipped).

    Names are unique after normalisation when saved; rows written around that never break the
    chat: the first row (by name) keeps the name.
    """
    seen: dict[str, str] = {}
    for row in rows:
        key = row.config_name.casefold()
        if key in seen:
            log.warning(
                "Skipping MCP server %r: its engine name %r is taken by %r; rename one of them",
                row.name,
                row.config_name,
                seen[key],
            )
            continue
        seen[key] = row.name
        yield row


def healthy_server_configs(
    *, user_token: str | None = None, tenant: Any = None
) -> tuple[list[MCPServerConfig], list[MCPServerConfig]]:
    """Configs of the healthy servers of ``tenant`` and the shared ones: ``(shared, per_user)``.

    ``tenant`` is a ``Tenant``, its primary key or ``None`` (shared servers only); servers of
    another tenant are never used.

    ``per_user`` holds the servers that receive the user's token (their sessions cannot be
    shared between users). A row that cannot be turned into a config is skipped and logged, so
    one bad row never takes the chat down.
    """
    from ..models import MCPServer

    shared: list[MCPServerConfig] = []
    per_user: list[MCPServerConfig] = []
    rows = tenant_rows(
        MCPServer.objects.filter(status=MCPServerStatusChoices.HEALTHY).select_related(
            "headers_secret", "oauth_secret"
        ),
        tenant,
    )
    for row in unique_names(rows.order_by("name")):
        try:
            config = server_config(row, user_token=user_token)
        except UserError as err:
            log.warning("Skipping MCP server %r: %s", row.name, err)
            continue
        forwarded = bool(user_token) and may_forward_token(row)
        (per_user if forwarded else shared).append(config)
    return shared, per_user
