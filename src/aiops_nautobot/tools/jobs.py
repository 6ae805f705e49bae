"""Job results the user may view."""

from __future__ import annotations

from typing import Any

from .access import ToolInputError, object_url, viewable
from .values import json_value

__all__ = ["job_results"]


def job_results(
    user: Any, *, job: str = "", status: str = "", limit: int = 10, max_rows: int = 50
) -> dict[str, Any]:
    """The newest job results ``user`` may view, optionally of one job (name contains ``job``)
    and with one status (``SUCCESS``, ``FAILURE``, ``STARTED``, ...)."""
    from nautobot.extras.models import JobResult

    if not 1 <= limit <= max_rows:
        raise ToolInputError(f"limit must be 1..{max_rows}")
    results = viewable(JobResult, user)
    if job:
        results = results.filter(name__icontains=job)
    if status:
        results = results.filter(status=status.upper())
    count = results.count()
    rows = list(results.order_by("-date_created")[:limit])
    return {
        "count": count,
        "results": [
            {
                "id": str(row.pk),
                "job": row.name,
                "status": row.status,
                "created": json_value(row.date_created),
                "done": json_value(row.date_done),
                "result": json_value(row.result),
                "url": object_url(row),
            }
            for row in rows
        ],
    }
