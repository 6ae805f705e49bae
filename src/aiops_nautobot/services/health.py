"""The MCP server health check: rows → :func:`aiops_core.mcp.check_health` → rows.

Status changes reach every process without messaging: the chat builds its MCP pool from the
healthy rows, and the pool is keyed by their configuration, so a changed set of healthy servers
gives every worker a fresh pool on its next request. This process's pools are dropped at once.

The healthy servers' tools are then listed and recorded in the tool catalog
(:func:`.mcp_catalog.discover_tools`): new tools appear unreviewed and changed definitions are
flagged (and refused by the chat until reviewed) without waiting for somebody's chat turn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aiops_core.errors import UserError

from ..choices import MCPServerStatusChoices
from ..policy import check_oauth_url
from .engine_loop import EngineLoop, get_engine_loop
from .mcp_pools import drop_pools
from .mcp_servers import server_config
from .mcp_tokens import DatabaseTokenStore

__all__ = ["HealthReport", "check_mcp_servers"]

log = logging.getLogger("aiops_nautobot.health")

VULNERABLE = MCPServerStatusChoices.VULNERABLE
MAX_REASON_CHARS = 300

_OWN_REASONS = re.compile(
    r"(GET /\S{0,200} answered HTTP \d{3}|no answer within [\d.]+s|timed out)"
)
_AUTHORIZATION = re.compile(r"authorization required for server '[\w.\-]{1,64}'")
_KNOWN_FAILURES = {
    "ConnectError": "the connection failed",
    "ConnectTimeout": "the connection timed out",
    "ReadTimeout": "no answer in time",
    "WriteTimeout": "the request could not be sent in time",
    "PoolTimeout": "no connection available in time",
    "TimeoutError": "no answer in time",
    "RemoteProtocolError": "the server broke the HTTP protocol",
    "LocalProtocolError": "the request could not be sent",
    "ConnectionRefusedError": "the connection was refused",
    "SSLError": "the TLS handshake failed",
    "SSLCertVerificationError": "the server's TLS certificate did not verify",
    "McpError": "the server answered with an MCP error",
    "FileNotFoundError": "the command was not found",
}


@dataclass(slots=True)
class HealthReport:
    """What one health-check round did."""

    checked: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    cache_cleared: bool = False
    tools_recorded: int = 0
    """Tool catalog rows written (new or changed tools of the healthy servers)."""
    lines: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "changed": self.changed,
            "failed": self.failed,
            "skipped": self.skipped,
            "cache_cleared": self.cache_cleared,
            "tools_recorded": self.tools_recorded,
            "servers": list(self.lines),
        }


def check_mcp_servers(
    *,
    servers: Iterable[Any] | None = None,
    rechecks: int = 2,
    recheck_delay: float = 5.0,
    probe_timeout: float = 5.0,
    engine: EngineLoop | None = None,
) -> HealthReport:
    """Check every MCP server except the vulnerable ones and store the outcome (sync).

    A server whose row cannot be turned into a configuration is marked unhealthy with the reason.
    A change of status is applied only when :func:`check_health`'s re-checks confirm it. The
    tools of the servers that are healthy afterwards are recorded in the tool catalog.

    Args:
        servers: check only these primary keys (default: every server).
        rechecks: re-checks that must confirm a change.
        recheck_delay: seconds between re-checks.
        probe_timeout: seconds for one probe.
        engine: the engine loop (default: the process's).
    """
    from django.utils import timezone

    from aiops_core.mcp import check_health

    from ..models import MCPServer

    engine = engine or get_engine_loop()
    report = HealthReport()
    queryset = MCPServer.objects.select_related("headers_secret", "oauth_secret").order_by("name")
    if servers is not None:
        queryset = queryset.filter(pk__in=list(servers))
    by_name: dict[str, Any] = {}
    configs = []
    configs_by_name: dict[str, Any] = {}  # by row name
    for row in queryset:
        if row.status == VULNERABLE:
            report.skipped += 1
            report.lines.append(f"{row.name}: vulnerable, not checked")
            continue
        taken = by_name.get(row.config_name.casefold())
        try:
            if taken is not None:
                raise UserError(f"its engine name is taken by {taken.name!r}: rename one of them")
            config = server_config(row)  # the policy refuses before anything runs
            configs.append(config)
            configs_by_name[row.name] = config
            by_name[row.config_name.casefold()] = row
        except UserError as err:
            report.checked += 1
            report.failed += 1
            reason = str(err)[:MAX_REASON_CHARS]
            report.changed += _apply(row, MCPServerStatusChoices.UNHEALTHY, reason, timezone.now())
            report.lines.append(f"{row.name}: unhealthy ({reason})")
    current = {row.config_name: row.status for row in by_name.values()}
    summary = engine.run(
        check_health(
            configs,
            current=current,
            rechecks=rechecks,
            recheck_delay=recheck_delay,
            probe_timeout=probe_timeout,
            token_store=DatabaseTokenStore(),
            oauth_url_check=check_oauth_url,
        ),
        timeout=len(configs) * (rechecks + 1) * (recheck_delay + probe_timeout) + 30,
    )
    for result in summary.results:
        row = by_name[result.name.casefold()]
        reason = short_reason(result.error)
        if result.error is not None:
            log.info("MCP server %r failed its health check: %s", row.name, reason)
        report.checked += 1
        report.failed += result.error is not None
        report.changed += _apply(row, result.status, reason, result.checked_at)
        state = result.status + (" (changed)" if result.changed else "")
        detail = f": {reason}" if reason else ""
        report.lines.append(f"{row.name}: {state}{detail}")
    if report.changed:
        report.cache_cleared = True
        engine.run(drop_pools(engine), timeout=30)
    healthy = MCPServer.objects.filter(
        pk__in=[row.pk for row in by_name.values()], status=MCPServerStatusChoices.HEALTHY
    ).values_list("name", flat=True)
    discover = [configs_by_name[name] for name in healthy]
    if discover:
        _refresh_catalog(discover, report, engine, startup_timeout=probe_timeout * 2)
    return report


def _refresh_catalog(
    configs: list[Any], report: HealthReport, engine: EngineLoop, *, startup_timeout: float
) -> None:
    """Record the tools of the healthy servers in the catalog (a failure is reported, not
    raised: the statuses are stored already)."""
    from .mcp_catalog import catalog_snapshot, discover_tools

    try:
        report.tools_recorded = engine.run(
            discover_tools(configs, catalog_snapshot(), startup_timeout=startup_timeout),
            timeout=startup_timeout + 60,
        )
    except Exception as err:
        # The exception may quote a server's answer: only its type is reported.
        log.warning("Could not refresh the MCP tool catalog: %s", type(err).__name__)
        report.lines.append(f"tool catalog: not refreshed ({type(err).__name__})")
        return
    report.lines.append(f"tool catalog: {report.tools_recorded} new or changed tool(s) recorded")


def short_reason(error: str | None) -> str:
    """A health-check failure as a short reason that echoes nothing the server sent.

    Reasons the engine writes itself (an HTTP status, a timeout) are kept. Anything else becomes
    a fixed description of the exception type: the exception's message may quote a response
    from an arbitrary host, or a header value that could not be sent.
    """
    if not error:
        return ""
    if _OWN_REASONS.fullmatch(error):
        return error
    needs_auth = _AUTHORIZATION.match(error)
    if needs_auth:  # the hint after it may quote the authorization server: left out
        return f"{needs_auth.group(0)}: connect it (OAuth) on the server's page"
    kind = re.match(r"[A-Za-z_][\w.]*", error)
    name = kind.group(0).rsplit(".", 1)[-1] if kind else "Error"
    return _KNOWN_FAILURES.get(name, f"the check failed ({name})")


def _apply(row: Any, status: str, error: str, checked_at: Any) -> int:
    # Re-read the status: an operator may have marked the server vulnerable meanwhile.
    fresh = type(row).objects.filter(pk=row.pk).values_list("status", flat=True).first()
    if fresh is None or fresh == VULNERABLE:
        return 0
    changed = fresh != status
    row.status = status if changed else fresh
    row.last_error = error
    row.last_checked = checked_at
    row.save()
    record_health(row, status, error, checked_at)
    if changed:
        log.info("MCP server %r is now %s", row.name, status)
    return int(changed)


def record_health(row: Any, status: str, error: str, checked_at: Any) -> None:
    """Add one entry to the server's health history (shown in the MCP health view)."""
    from ..models import MCPHealthRecord

    MCPHealthRecord.objects.create(
        server=row, checked_at=checked_at, healthy=status == "healthy", error=error[:255]
    )
