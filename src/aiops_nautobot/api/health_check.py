"""``POST /api/plugins/ai-ops/mcp-servers/{id}/health-check/``: check one server now."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from ..services.health import check_mcp_servers
from ..settings import get_settings
from .errors import http_error

__all__ = ["run_health_check"]


def run_health_check(request: Request, queryset: Any, pk: Any) -> Response:
    """Probe one server at once (no confirmation re-checks) and store the outcome.

    Needs the change permission on the server. A vulnerable server is reported, not probed.
    """
    server = get_object_or_404(queryset.restrict(request.user, "change"), pk=pk)
    try:
        report = check_mcp_servers(servers=[server.pk], rechecks=0)
    except Exception as err:
        error = http_error(err, environment=get_settings().environment)
        return Response(error.body(), status=error.status)
    server.refresh_from_db()
    return Response(
        {
            "id": str(server.pk),
            "name": server.name,
            "status": server.status,
            "last_checked": server.last_checked,
            "last_error": server.last_error,
            "changed": bool(report.changed),
            "skipped": bool(report.skipped),
        }
    )
