"""Tenancy: the operator's switch (``PLUGINS_CONFIG["aiops_nautobot"]["tenancy"]``) and which
Nautobot tenant a chat runs under.

A conversation has at most one tenant, chosen at its first turn among the tenants the user may
view (``Tenant.objects.restrict(user, "view")``); its configuration rows (models, prompts,
middleware, MCP servers) are the tenant's own plus the shared ones (no tenant), never another
tenant's. See docs/admin/tenancy.md.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from aiops_core.errors import UserError

__all__ = ["TENANCY_DEFAULTS", "TenancyConfig", "chat_tenant", "parse_tenancy", "viewable_tenants"]

TENANCY_DEFAULTS: dict[str, Any] = {"restrict_tools_to_tenant": False}
"""The keys of ``PLUGINS_CONFIG["aiops_nautobot"]["tenancy"]`` and their defaults."""


@dataclass(frozen=True, slots=True)
class TenancyConfig:
    """The operator's tenancy settings.

    Attributes:
        restrict_tools_to_tenant: in a conversation with a tenant, the native Nautobot tools see
            only objects of that tenant among models that have a ``tenant`` field (others are
            unchanged); the GraphQL and change-set tools, which cannot be scoped that way, are
            not offered. Off by default: the tools see what the user may view.
    """

    restrict_tools_to_tenant: bool = False

    def tool_scope(self, tenant: Any) -> Any:
        """The tenant the tools of a conversation under ``tenant`` are scoped to (``None``:
        everything the user may view)."""
        return tenant if self.restrict_tools_to_tenant else None


def parse_tenancy(value: object, *, where: str) -> TenancyConfig:
    """``None`` (defaults) or a dict of :data:`TENANCY_DEFAULTS` keys.

    Raises:
        UserError: unknown keys or a value of the wrong type; the message says what to set.
    """
    if value is None:
        return TenancyConfig()
    if not isinstance(value, dict):
        raise UserError(f"{where} must be a dict, e.g. {{'restrict_tools_to_tenant': True}}")
    unknown = sorted(set(value) - set(TENANCY_DEFAULTS))
    if unknown:
        raise UserError(f"{where} has unknown keys {unknown}: use {sorted(TENANCY_DEFAULTS)}")
    restrict = value.get("restrict_tools_to_tenant", False)
    if not isinstance(restrict, bool):
        raise UserError(f"{where}['restrict_tools_to_tenant'] must be true or false")
    return TenancyConfig(restrict_tools_to_tenant=restrict)


def viewable_tenants(user: Any) -> Any:
    """The tenants ``user`` may chat under (those they may view), by name."""
    from nautobot.tenancy.models import Tenant

    return Tenant.objects.restrict(user, "view").order_by("name")


def chat_tenant(user: Any, value: Any) -> Any:
    """The ``Tenant`` a chat request names (its id or name), or ``None`` when none is named.

    Raises:
        ChatInputError: not a string, or no tenant of that id or name that the user may view
            (a hidden tenant is reported like a missing one).
    """
    from django.core.exceptions import ValidationError

    from .services.errors import ChatInputError

    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ChatInputError("'tenant' must be a string: a tenant's id or name")
    text = value.strip()
    tenants = viewable_tenants(user)
    found = None
    with suppress(ValidationError, ValueError):  # not a primary key: try the name
        found = tenants.filter(pk=text).first()
    if found is None:
        found = tenants.filter(name=text).first()
    if found is None:
        raise ChatInputError(
            f"'tenant' {text!r} matches no tenant you may view: give the id or name of one of "
            "your tenants, or leave it out to use the shared configuration"
        )
    return found
