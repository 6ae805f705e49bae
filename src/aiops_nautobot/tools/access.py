"""Which Nautobot models the native tools may read, and the one way they query them.

Every query of the toolset starts at :func:`viewable`: the model's objects restricted to what
``user`` may view (``QuerySet.restrict(user, "view")``), and, in a conversation scoped to a tenant
(``tenancy.restrict_tools_to_tenant``, see :func:`tenant_scope`), only objects of that tenant
among models with a ``tenant`` field. Secrets, secrets groups, users, tokens and the app's own
rows are never readable, whatever the user's permissions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from aiops_core.errors import UserError

__all__ = [
    "READABLE_APPS",
    "ToolInputError",
    "is_sensitive_field",
    "is_sensitive_model",
    "object_url",
    "parse_object_ref",
    "readable_model",
    "scoped",
    "tenant_scope",
    "viewable",
]

READABLE_APPS = frozenset(
    {"circuits", "cloud", "dcim", "extras", "ipam", "tenancy", "virtualization", "wireless"}
)
"""App labels whose models the toolset may read."""
_SENSITIVE_MODELS = frozenset(
    {
        "extras.secret",
        "extras.secretsgroup",
        "extras.secretsgroupassociation",
        "extras.joblogentry",
        "extras.fileproxy",
        "extras.fileattachment",
        "extras.userpreference",
        "extras.usersavedviewassociation",
    }
)
_SENSITIVE_APPS = frozenset({"users", "auth", "admin", "sessions", "aiops_nautobot"})
_SENSITIVE_FIELD = re.compile(r"password|secret|token|private_key|api_key", re.IGNORECASE)
# The tenant a tool call is scoped to; set around each call in its worker thread only.
_TENANT: ContextVar[Any] = ContextVar("aiops_tool_tenant", default=None)
_REF = re.compile(r"^\s*([a-z_]+)\.([a-z_]+)\s*:\s*([0-9a-fA-F-]{32,36})\s*$")


class ToolInputError(UserError):
    """The model asked for something invalid; the message says what to send instead."""


def is_sensitive_model(model: Any) -> bool:
    """Whether ``model`` (class) is never shown: secrets, users, tokens, the app's own rows."""
    meta = model._meta
    return meta.app_label in _SENSITIVE_APPS or meta.label_lower in _SENSITIVE_MODELS


def is_sensitive_field(name: str) -> bool:
    """Whether a field's name says it holds a credential."""
    return bool(_SENSITIVE_FIELD.search(name))


def readable_model(label: str) -> Any:
    """The model class of ``app_label.model``, if the toolset may read it.

    Raises:
        ToolInputError: unknown, sensitive or outside :data:`READABLE_APPS`.
    """
    from django.apps import apps

    text = str(label).strip().lower()
    app_label, _, model_name = text.partition(".")
    allowed = ", ".join(sorted(READABLE_APPS))
    if app_label not in READABLE_APPS or not model_name:
        raise ToolInputError(
            f"{label!r} cannot be read; use app_label.model with one of: {allowed}"
        )
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        raise ToolInputError(
            f"Unknown model {label!r}; use app_label.model, e.g. dcim.device, ipam.prefix"
        ) from None
    if is_sensitive_model(model) or not hasattr(model.objects.all(), "restrict"):
        raise ToolInputError(f"{label!r} cannot be read through the Nautobot tools")
    return model


def viewable(model: Any, user: Any) -> Any:
    """``model``'s objects that ``user`` may view: the start of every query of the toolset."""
    return scoped(model.objects.all().restrict(user, "view"))


@contextmanager
def tenant_scope(tenant_id: Any) -> Iterator[None]:
    """Within the block, :func:`scoped` keeps only objects of the tenant ``tenant_id`` (``None``:
    no scope)."""
    token = _TENANT.set(tenant_id)
    try:
        yield
    finally:
        _TENANT.reset(token)


def scoped(queryset: Any) -> Any:
    """``queryset`` limited to the current :func:`tenant_scope`'s tenant, if its model has a
    ``tenant`` field (other models are unchanged)."""
    tenant_id = _TENANT.get()
    if tenant_id is None or not _has_tenant(queryset.model):
        return queryset
    return queryset.filter(tenant_id=tenant_id)


def _has_tenant(model: Any) -> bool:
    from django.core.exceptions import FieldDoesNotExist

    try:
        field = model._meta.get_field("tenant")
    except FieldDoesNotExist:
        return False
    # A concrete foreign key: Tag, for one, has a reverse relation named ``tenant``.
    return bool(
        getattr(field, "concrete", False)
        and field.many_to_one
        and field.related_model._meta.label_lower == "tenancy.tenant"
    )


def parse_object_ref(ref: str) -> tuple[Any, str]:
    """``app_label.model:<uuid>`` → (model class, pk).

    Raises:
        ToolInputError: the reference is malformed or names a model that cannot be read.
    """
    match = _REF.match(str(ref))
    if match is None:
        raise ToolInputError(
            f"Object reference {ref!r} is malformed: use app_label.model:<uuid>, "
            "e.g. dcim.device:3f2c...; find ids with nautobot_search"
        )
    return readable_model(f"{match[1]}.{match[2]}"), match[3]


def object_url(obj: Any) -> str | None:
    """The object's page in Nautobot (relative URL), when it has one."""
    try:
        return str(obj.get_absolute_url())
    except Exception:
        return None
