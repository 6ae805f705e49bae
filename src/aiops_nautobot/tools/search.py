"""Filtered search with Nautobot's own FilterSets (the REST API's filters), paginated, counted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .access import ToolInputError, object_url, readable_model, scoped, viewable
from .values import render_rows

__all__ = ["search", "valid_filters"]

_MAX_LISTED = 120


def valid_filters(filterset_class: Any) -> list[str]:
    """The filter names of a FilterSet without lookup variants (``name``, not ``name__ic``)."""
    return sorted(name for name in filterset_class.base_filters if "__" not in name)


def _query_data(filters: Mapping[str, Any]) -> Any:
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    for key, value in filters.items():
        values = value if isinstance(value, list | tuple) else [value]
        data.setlist(
            key, ["true" if v is True else "false" if v is False else str(v) for v in values]
        )
    return data


def _restrict_choices(filterset: Any, user: Any) -> None:
    """Filters that take related objects accept only objects ``user`` may view.

    Otherwise a filter value would tell a hidden object (valid choice) from a missing one
    (invalid choice).
    """
    for item in filterset.filters.values():
        queryset = getattr(item, "queryset", None)
        if queryset is not None and hasattr(queryset, "restrict"):
            item.queryset = scoped(queryset.restrict(user, "view"))
            item.extra["queryset"] = item.queryset
            if hasattr(item, "_field"):
                del item._field


def search(
    user: Any,
    model: str,
    filters: Mapping[str, Any] | None = None,
    *,
    fields: Sequence[str] | None = None,
    limit: int = 20,
    offset: int = 0,
    max_rows: int = 50,
) -> dict[str, Any]:
    """Objects of ``model`` that ``user`` may view and that match ``filters``.

    Args:
        user: the requesting user.
        model: ``app_label.model``.
        filters: filter name → value or list of values, as in the REST API (``q``, ``name``,
            ``status``, ``location``, ``device``, ``name__ic``, ...).
        fields: concrete fields to include for each row (default: id and display only).
        limit: page size (1..``max_rows``).
        offset: rows to skip.
        max_rows: the largest page.

    Raises:
        ToolInputError: unknown model, unknown filter (the message lists the valid ones),
            invalid filter value or unknown field.
    """
    from nautobot.core.utils.lookup import get_filterset_for_model

    model_cls = readable_model(model)
    label = model_cls._meta.label_lower
    filterset_class = get_filterset_for_model(model_cls)
    if filterset_class is None:
        raise ToolInputError(f"{label} has no filters; use nautobot_graphql instead")
    filters = dict(filters or {})
    unknown = sorted(set(filters) - set(filterset_class.base_filters))
    if unknown:
        names = valid_filters(filterset_class)
        listed = ", ".join(names[:_MAX_LISTED]) + (" ..." if len(names) > _MAX_LISTED else "")
        raise ToolInputError(
            f"Unknown filters {unknown} for {label}. Valid filters (each also takes lookups such "
            f"as __ic, __n, __gte where it makes sense): {listed}"
        )
    if not 1 <= limit <= max_rows:
        raise ToolInputError(f"limit must be between 1 and {max_rows}, got {limit}")
    if offset < 0:
        raise ToolInputError(f"offset must be 0 or more, got {offset}")
    filterset = filterset_class(_query_data(filters), queryset=viewable(model_cls, user))
    _restrict_choices(filterset, user)
    if not filterset.is_valid():
        problems = {key: [str(e) for e in errors] for key, errors in filterset.errors.items()}
        raise ToolInputError(f"Invalid filter values for {label}: {problems}")
    queryset = filterset.qs
    if not queryset.ordered:
        queryset = queryset.order_by("pk")
    count = queryset.count()
    rows = list(queryset[offset : offset + limit])
    results = render_rows(user, model_cls, rows, fields or ())
    for item, row in zip(results, rows, strict=True):
        item["url"] = object_url(row)
    return {
        "model": label,
        "count": count,
        "offset": offset,
        "returned": len(results),
        "next_offset": offset + len(results) if offset + len(results) < count else None,
        "results": results,
    }
