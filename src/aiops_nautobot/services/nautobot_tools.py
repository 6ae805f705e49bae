"""Local tools that read Nautobot's own data, as the requesting user.

Every query goes through ``QuerySet.restrict(user, "view")``, so the model sees exactly what the
user could see in the UI. The tools are read-only and run the ORM in parallel worker threads
(:class:`aiops_nautobot.tools.workers.OrmWorkers`), never on the event loop. The richer native
toolset (detail, FilterSet search, GraphQL, change log, ...) lives in :mod:`aiops_nautobot.tools`.
"""

from __future__ import annotations

from typing import Any

from aiops_core.tools import Tool, tool

from ..tools.access import scoped, tenant_scope

__all__ = ["LOOKUP_APPS", "MAX_RESULTS", "lookup", "nautobot_tools"]

LOOKUP_APPS = frozenset(
    {"circuits", "cloud", "dcim", "extras", "ipam", "tenancy", "virtualization", "wireless"}
)
"""App labels whose models the lookup tool may read."""
_EXCLUDED = frozenset(
    {"extras.secret", "extras.secretsgroup", "extras.jobresult", "extras.joblogentry"}
)
MAX_RESULTS = 50


def lookup(
    user: Any, model: str, search: str = "", limit: int = 10, tenant: Any = None
) -> dict[str, Any]:
    """Search one Nautobot model as ``user`` (sync; the ORM runs here).

    Args:
        user: the requesting user (permissions are applied with ``restrict(user, "view")``).
        model: ``app_label.model``, e.g. ``dcim.device``.
        search: the UI's quick-search text (``q`` filter); empty lists everything.
        limit: how many objects to return (1-50).
        tenant: only objects of this tenant (primary key) among models with a ``tenant`` field
            (``None``: no scope; see :func:`aiops_nautobot.tools.access.tenant_scope`).

    Returns:
        ``{"model", "count", "results": [{"id", "display", "url"}]}``.

    Raises:
        ValueError: the model is unknown or not readable through this tool.
    """
    from django.apps import apps
    from nautobot.core.utils.lookup import get_filterset_for_model

    label = model.strip().lower()
    app_label, _, model_name = label.partition(".")
    if app_label not in LOOKUP_APPS or label in _EXCLUDED:
        apps_list = ", ".join(sorted(LOOKUP_APPS))
        raise ValueError(f"{model!r} cannot be looked up; use app_label.model from: {apps_list}")
    try:
        model_cls = apps.get_model(app_label, model_name)
    except LookupError:
        raise ValueError(
            f"Unknown model {model!r}; use app_label.model, e.g. dcim.device"
        ) from None
    queryset = model_cls.objects.all()
    if not hasattr(queryset, "restrict"):
        raise ValueError(f"{model!r} does not support per-user permissions and cannot be looked up")
    with tenant_scope(tenant):
        queryset = scoped(queryset.restrict(user, "view"))
    if search:
        filterset = get_filterset_for_model(model_cls)
        if filterset is None or "q" not in filterset.get_filters():
            raise ValueError(f"{model!r} has no quick search; call it without 'search'")
        queryset = filterset({"q": search}, queryset=queryset).qs
    limit = max(1, min(limit, MAX_RESULTS))
    rows = list(queryset[:limit])
    return {
        "model": label,
        "count": queryset.count(),
        "results": [{"id": str(row.pk), "display": str(row), "url": _url(row)} for row in rows],
    }


def _url(row: Any) -> str | None:
    try:
        return str(row.get_absolute_url())
    except Exception:
        return None


def nautobot_tools(user: Any, tenant: Any = None) -> list[Tool]:
    """The local tools for one request, bound to ``user`` (and scoped to ``tenant``, if any)."""
    from ..tools.workers import OrmWorkers

    workers = OrmWorkers(workers=4, timeout=30)
    tenant_id = getattr(tenant, "pk", tenant)

    @tool(name="nautobot_lookup", timeout=30)
    async def nautobot_lookup(model: str, search: str = "", limit: int = 10) -> dict[str, Any]:
        """Search Nautobot (the network source of truth) for objects the user may view.

        Args:
            model: app_label.model, e.g. dcim.device, dcim.interface, ipam.ipaddress, ipam.prefix,
                dcim.location, circuits.circuit, virtualization.virtualmachine, tenancy.tenant.
            search: quick-search text (name, address, serial, ...); empty lists the first objects.
            limit: how many objects to return, 1-50.
        """
        return await workers.run(lookup, user, model, search, limit, tenant_id)

    return [nautobot_lookup]
