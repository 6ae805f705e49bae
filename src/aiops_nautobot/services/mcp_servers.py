"""``MCPServer`` rows as :class:`aiops_core.mcp.MCPServerConfig` objects."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from aiops_core.errors import UserError

from ..choices import MCPProtocolChoices, MCPServerStatusChoices
from ..policy import may_forward_token
from .secret_values import secret_json_object

if TYPE_CHECKING:
    from aiops_core.mcp import MCPServerConfig

    from ..models import MCPServer

__all__ = ["config_name", "healthy_server_configs", "server_config"]

log = logging.getLogger("aiops_nautobot.mcp")

FORWARDED_TOKEN_HEADER = "Authorization"


def config_name(row: MCPServer) -> str:
    """The server's name as the engine (and the model) sees it: letters, digits, ``_.-``."""
    return re.sub(r"[^A-Za-z0-9_.\-]+", "-", row.name).strip("-")[:64] or f"server-{row.pk}"


def server_config(row: MCPServer, *, user_token: str | None = None) -> MCPServerConfig:
    """The engine config of one server row.

    Headers come from the row's ``headers_secret`` (a JSON object). The user's own Nautobot API
    token is added only when :func:`aiops_nautobot.policy.may_forward_token` allows it.

    Raises:
        UserError: the row or its headers secret is invalid.
    """
    from aiops_core.mcp import MCPServerConfig

    headers: dict[str, str] = {}
    if row.headers_secret is not None:
        headers = secret_json_object(row.headers_secret, row, f"MCP server {row.name!r} headers")
    if user_token and may_forward_token(row):
        headers[FORWARDED_TOKEN_HEADER] = f"Token {user_token}"
    stdio = row.protocol == MCPProtocolChoices.STDIO
    return MCPServerConfig.from_dict(
        {
            "name": config_name(row),
            "transport": row.protocol,
            "command": (row.command or None) if stdio else None,
            "args": [str(a) for a in (row.args or [])] if stdio else [],
            "url": None if stdio else (row.url or None),
            "mcp_path": row.mcp_endpoint or None,
            "headers": headers,
            "verify_tls": row.verify_tls,
            "timeout": float(row.timeout_seconds or 30),
            "health_check": row.health_check or None,
            "type": row.server_type,
            "allow_tools": list(row.allowed_tools or []),
            "deny_tools": list(row.denied_tools or []),
        }
    )


def healthy_server_configs(
    *, user_token: str | None = None
) -> tuple[list[MCPServerConfig], list[MCPServerConfig]]:
    """Configs of the healthy servers: ``(shared, per_user)``.

    ``per_user`` holds the servers that receive the user's token (their sessions cannot be
    shared between users). A row that cannot be turned into a config is skipped and logged, so
    one bad row never takes the chat down.
    """
    from ..models import MCPServer

    shared: list[MCPServerConfig] = []
    per_user: list[MCPServerConfig] = []
    rows = MCPServer.objects.filter(status=MCPServerStatusChoices.HEALTHY).select_related(
        "headers_secret"
    )
    for row in rows.order_by("name"):
        forwarded = bool(user_token) and may_forward_token(row)
        try:
            config = server_config(row, user_token=user_token)
        except UserError as err:
            log.warning("Skipping MCP server %r: %s", row.name, err)
            continue
        (per_user if forwarded else shared).append(config)
    return shared, per_user
