"""Seeding of registry rows after every ``migrate``.

Each provider handler of the engine's registry gets an ``LLMProvider`` row (created once, then
left to the operator), and each middleware type gets a ``MiddlewareType`` row whose built-in flag,
description and default config follow the code (updated when the code changes).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, transaction
from pydantic import ValidationError

from .catalog import middleware_types, provider_handlers

__all__ = ["SeedResult", "seed_registry_rows"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SeedResult:
    """Names of the rows a seeding run created or updated."""

    providers_created: tuple[str, ...]
    middleware_types_created: tuple[str, ...]
    middleware_types_updated: tuple[str, ...]


def seed_registry_rows(
    sender: Any = None, apps: Any = None, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> SeedResult | None:
    """Create missing provider and middleware-type rows; safe to run any number of times.

    Connected to ``post_migrate``. With ``apps`` (the migration state), the state's models are
    used; if the app's tables do not exist in that state (migrated to zero), nothing happens.
    """
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    try:
        provider_model = apps.get_model("aiops_nautobot", "LLMProvider")
        type_model = apps.get_model("aiops_nautobot", "MiddlewareType")
    except LookupError:
        return None
    with transaction.atomic(using=using):
        providers = _seed_providers(provider_model, using)
        created, updated = _seed_middleware_types(type_model, using)
    result = SeedResult(tuple(providers), tuple(created), tuple(updated))
    if providers or created or updated:
        logger.info("aiops seeding: %s", result)
    return result


def _first_doc_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0][:255] if doc.strip() else ""


def _seed_providers(model: Any, using: str) -> list[str]:
    existing = set(model.objects.using(using).values_list("name", flat=True))
    created = []
    for name, handler in provider_handlers().items():
        if name in existing:
            continue
        model.objects.using(using).create(name=name, description=_first_doc_line(handler))
        created.append(name)
    return created


def default_config(cls: Any) -> dict[str, Any]:
    """The defaults of a middleware type's config schema, as JSON."""
    try:
        dumped: dict[str, Any] = cls.Config().model_dump(mode="json")
        return dumped
    except ValidationError:
        # A schema with required fields has no complete default; keep the defaults it has.
        fields = cls.Config.model_fields
        return {
            name: field.get_default(call_default_factory=True)
            for name, field in fields.items()
            if not field.is_required()
        }


def _seed_middleware_types(model: Any, using: str) -> tuple[list[str], list[str]]:
    rows = {row.name: row for row in model.objects.using(using).all()}
    created, updated = [], []
    for name, cls in middleware_types().items():
        values = {
            "is_builtin": cls.__module__.startswith("aiops_core."),
            "description": _first_doc_line(cls),
            "default_config": default_config(cls),
        }
        row = rows.get(name)
        if row is None:
            model.objects.using(using).create(name=name, **values)
            created.append(name)
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.save(using=using)
            updated.append(name)
    return created, updated
