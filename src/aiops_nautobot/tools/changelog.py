"""The change log of one object: who changed what, when (only for objects the user may view)."""

from __future__ import annotations

from typing import Any

from .access import ToolInputError, is_sensitive_field, viewable
from .detail import get_viewable
from .values import json_value

__all__ = ["change_log"]


def _changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """Fields whose value differs between two snapshots: ``{field: [old, new]}``."""
    before, after = before or {}, after or {}
    diff = {}
    for key in sorted(set(before) | set(after)):
        if is_sensitive_field(key) or key in ("last_updated", "created"):
            continue
        if before.get(key) != after.get(key):
            diff[key] = [json_value(before.get(key)), json_value(after.get(key))]
    return diff


def change_log(
    user: Any, ref: str, *, limit: int = 20, offset: int = 0, max_rows: int = 50
) -> dict[str, Any]:
    """Change-log entries of the object ``ref``, newest first, as ``user`` may see them.

    The object itself must be viewable (else the answer is "not found", whatever the log holds)
    and the entries are restricted by the user's view permission on change-log entries.
    """
    from django.contrib.contenttypes.models import ContentType
    from nautobot.extras.models import ObjectChange

    if not 1 <= limit <= max_rows or offset < 0:
        raise ToolInputError(f"limit must be 1..{max_rows} and offset 0 or more")
    obj = get_viewable(user, ref)
    entries = viewable(ObjectChange, user).filter(
        changed_object_type=ContentType.objects.get_for_model(type(obj)),
        changed_object_id=obj.pk,
    )
    count = entries.count()
    # One entry more than the page: the oldest one's predecessor, to tell what it changed.
    rows = list(entries.order_by("-time")[offset : offset + limit + 1])
    results = []
    for index, entry in enumerate(rows[:limit]):
        previous = rows[index + 1].object_data if index + 1 < len(rows) else None
        results.append(
            {
                "time": json_value(entry.time),
                "user": entry.user_name,
                "action": entry.action,
                "change_context": entry.change_context,
                "change_context_detail": entry.change_context_detail,
                "request_id": str(entry.request_id),
                "changed": _changed(
                    previous, entry.object_data if entry.action != "delete" else None
                ),
            }
        )
    return {
        "object": ref,
        "display": str(obj),
        "count": count,
        "offset": offset,
        "results": results,
    }
