"""Field values of Nautobot objects in a compact JSON form for a model, as a user may see them.

A foreign key shows the related object (``{"id", "display", "object"}``) only when the user may
view it, and that is checked for all rows at once: one query per related model, not per row.
Fields that hold credentials, and relations to secrets or users, are never shown.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from .access import ToolInputError, is_sensitive_field, is_sensitive_model, viewable

__all__ = ["field_names", "json_value", "object_ref", "render_rows"]

_SKIPPED = frozenset({"id", "_custom_field_data", "_name", "natural_slug"})


def object_ref(obj: Any) -> dict[str, Any]:
    """How a related object is shown: id, display and its ``app_label.model:<id>`` reference."""
    return {"id": str(obj.pk), "display": str(obj), "object": f"{obj._meta.label_lower}:{obj.pk}"}


def json_value(value: Any) -> Any:
    """A field value as JSON (dates as ISO text, decimals and UUIDs as strings)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_value(v) for v in value]
    return str(value)


def _fields(model: Any) -> dict[str, Any]:
    """The model's showable concrete fields, by name."""
    found = {}
    for field in model._meta.concrete_fields:
        if field.name in _SKIPPED or is_sensitive_field(field.name):
            continue
        if field.is_relation and (
            field.related_model is None or is_sensitive_model(field.related_model)
        ):
            continue
        found[field.name] = field
    return found


def field_names(model: Any) -> list[str]:
    """Names :func:`render_rows` accepts for ``model``."""
    return sorted(_fields(model))


def render_rows(
    user: Any, model: Any, rows: Sequence[Any], names: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """``{"id", "display", <field>: value, ...}`` for each row, as ``user`` may see them.

    Args:
        user: the requesting user.
        model: the rows' model class.
        rows: model instances.
        names: the fields to show; ``None``: all showable concrete fields.

    Raises:
        ToolInputError: a name is not a showable field of the model (the message lists them).
    """
    from django.contrib.contenttypes.models import ContentType

    available = _fields(model)
    chosen = list(available) if names is None else list(names)
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise ToolInputError(
            f"Unknown fields {unknown} for {model._meta.label_lower}; use: {', '.join(sorted(available))}"
        )
    visible: dict[str, dict[Any, Any]] = {}
    for name in chosen:
        field = available[name]
        if field.is_relation and field.related_model is not ContentType:
            ids = {getattr(row, field.attname) for row in rows} - {None}
            target = field.related_model
            if not ids or not hasattr(target.objects.all(), "restrict"):
                visible[name] = {}
            else:
                visible[name] = {o.pk: o for o in viewable(target, user).filter(pk__in=ids)}
    out = []
    for row in rows:
        item: dict[str, Any] = {"id": str(row.pk), "display": str(row)}
        for name in chosen:
            field = available[name]
            if field.is_relation and field.related_model is ContentType:
                content_type_id = getattr(row, field.attname)
                item[name] = (
                    ContentType.objects.get_for_id(content_type_id).natural_key()
                    if content_type_id
                    else None
                )
                if item[name] is not None:
                    item[name] = ".".join(item[name])
            elif field.is_relation:
                related_id = getattr(row, field.attname)
                # Hidden and absent look the same: the user cannot learn that it exists.
                related = visible[name].get(related_id)
                item[name] = None if related is None else object_ref(related)
            else:
                item[name] = json_value(getattr(row, field.attname))
        out.append(item)
    return out
