"""Object detail: the fields of one object as the user may see them, with related counts."""

from __future__ import annotations

from typing import Any

from .access import (
    READABLE_APPS,
    ToolInputError,
    is_sensitive_model,
    object_url,
    parse_object_ref,
    viewable,
)
from .values import json_value, render_rows

__all__ = ["get_viewable", "object_detail"]


def get_viewable(user: Any, ref: str) -> Any:
    """The object ``app_label.model:<uuid>`` if ``user`` may view it.

    Raises:
        ToolInputError: malformed reference, or no such object the user may view (the two look
            the same, so the answer does not confirm that a hidden object exists).
    """
    model, pk = parse_object_ref(ref)
    obj = viewable(model, user).filter(pk=pk).first()
    if obj is None:
        raise ToolInputError(f"No {model._meta.label_lower} with id {pk} that you may view")
    return obj


def object_detail(user: Any, ref: str) -> dict[str, Any]:
    """One object: fields, custom fields, tags, and counts of related objects the user may view.

    Args:
        user: the requesting user.
        ref: ``app_label.model:<uuid>``.
    """
    obj = get_viewable(user, ref)
    model = type(obj)
    [fields] = render_rows(user, model, [obj])
    fields.pop("id")
    display = fields.pop("display")
    data: dict[str, Any] = {
        "object": f"{model._meta.label_lower}:{obj.pk}",
        "display": display,
        "url": object_url(obj),
        "fields": fields,
    }
    custom = getattr(obj, "_custom_field_data", None)
    if custom:
        data["custom_fields"] = json_value(custom)
    if hasattr(obj, "tags"):
        data["tags"] = sorted(obj.tags.all().restrict(user, "view").values_list("name", flat=True))
    counts = related_counts(user, obj)
    if counts:
        data["related_counts"] = counts
    return data


def related_counts(user: Any, obj: Any) -> dict[str, int]:
    """Objects pointing at ``obj`` by foreign key, per relation, that ``user`` may view."""
    counts = {}
    for relation in type(obj)._meta.related_objects:
        if not relation.one_to_many:
            continue
        target = relation.related_model
        if (
            target._meta.app_label not in READABLE_APPS
            or is_sensitive_model(target)
            or not hasattr(target.objects.all(), "restrict")
        ):
            continue
        count = viewable(target, user).filter(**{relation.field.name: obj}).count()
        if count:
            counts[f"{target._meta.label_lower} ({relation.field.name})"] = count
    return counts
