"""Dynamic group members, as the user may see them."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from .access import ToolInputError, is_sensitive_model, object_url, scoped, viewable

__all__ = ["group_members"]


def group_members(
    user: Any, group: str, *, limit: int = 20, offset: int = 0, max_rows: int = 50
) -> dict[str, Any]:
    """Members of the dynamic group ``group`` (name or id) that ``user`` may view.

    Raises:
        ToolInputError: no such group the user may view, a group of sensitive objects, or a
            bad page.
    """
    from django.db.models import Q
    from nautobot.extras.models import DynamicGroup

    if not 1 <= limit <= max_rows or offset < 0:
        raise ToolInputError(f"limit must be 1..{max_rows} and offset 0 or more")
    match = Q(name=group)
    with contextlib.suppress(ValueError):
        match |= Q(pk=uuid.UUID(str(group)))
    found = viewable(DynamicGroup, user).filter(match).select_related("content_type").first()
    if found is None:
        raise ToolInputError(
            f"No dynamic group {group!r} that you may view; search extras.dynamicgroup for names"
        )
    model = found.content_type.model_class()
    if model is None or is_sensitive_model(model):
        raise ToolInputError(f"The members of dynamic group {found.name!r} cannot be shown")
    members = scoped(found.members.restrict(user, "view"))
    if not members.ordered:
        members = members.order_by("pk")
    count = members.count()
    rows = list(members[offset : offset + limit])
    return {
        "group": found.name,
        "model": model._meta.label_lower,
        "count": count,
        "offset": offset,
        "results": [
            {"id": str(row.pk), "display": str(row), "url": object_url(row)} for row in rows
        ],
    }
