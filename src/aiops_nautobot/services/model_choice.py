"""Which chat model a run uses: the ``LLMModel`` row (or the LAB fallback) as plain values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import NotConfiguredError, UnknownModelError
from .leases import fingerprint
from .secret_values import secret_value

if TYPE_CHECKING:
    from ..models import LLMModel

__all__ = [
    "ENV_MODEL",
    "ModelChoice",
    "environment_choice",
    "model_choice",
    "resolve_model",
    "tenant_rows",
]

ENV_MODEL = "AIOPS_MODEL"
"""LAB fallback: ``provider:model`` used when no ``LLMModel`` is configured."""

_SELECTORS = "pass an LLM model's id, its name, or provider:name"


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The chat model to build, as plain values (the API key lives only in ``options``)."""

    spec: str
    """``provider:model``."""
    options: Mapping[str, Any] = field(repr=False)
    """Handler config keys plus ``api_key`` when a secret is configured."""
    llm_model_id: Any = None
    """Primary key of the ``LLMModel`` row, ``None`` for the LAB environment fallback."""

    @property
    def fingerprint(self) -> str:
        """A digest of spec and options: changes when the row or the secret changes."""
        return fingerprint([self.spec, dict(self.options)])


def resolve_model(
    selector: str | None = None, user: Any = None, tenant: Any = None
) -> LLMModel | None:
    """The ``LLMModel`` for a selector: a primary key, ``name``, ``provider:name``, or the default.

    Only shared models (no tenant) and models of ``tenant`` (a ``Tenant`` or its primary key)
    are candidates; the default is the tenant's default, else the shared default. Returns
    ``None`` when no selector is given and no candidate is marked default. With ``user``, a
    selector may name only a default model or a model the user may view (others are reported
    as not found, so their existence is not confirmed).

    Raises:
        UnknownModelError: the selector matches no model the user may use, or several.
    """
    from django.core.exceptions import ValidationError
    from django.db.models import F

    from ..models import LLMModel

    rows = tenant_rows(
        LLMModel.objects.select_related("provider", "system_prompt", "api_key_secret"), tenant
    )
    if not selector:
        # The tenant's default first (nulls sort last in ascending order on PostgreSQL).
        default: LLMModel | None = (
            rows.filter(is_default=True).order_by(F("tenant").asc(nulls_last=True)).first()
        )
        return default
    selector = selector.strip()
    candidates = []
    with suppress(ValidationError, ValueError):  # not a primary key: try the names
        candidates = list(rows.filter(pk=selector))
    if not candidates:
        provider, sep, name = selector.partition(":")
        if sep:
            candidates = list(rows.filter(provider__name=provider, name=name))
        else:
            candidates = list(rows.filter(name=selector))
    if len(candidates) > 1:
        raise UnknownModelError(f"Model {selector!r} matches several models: {_SELECTORS}")
    chosen = candidates[0] if candidates else None
    if chosen is not None and user is not None and not _may_choose(user, chosen):
        chosen = None  # reported like a missing model, so its existence is not confirmed
    if chosen is None:
        raise UnknownModelError(f"Model {selector!r} matches no model: {_SELECTORS}")
    return chosen


def tenant_rows(queryset: Any, tenant: Any) -> Any:
    """The rows of ``queryset`` usable under ``tenant``: shared ones (no tenant) and its own.

    ``tenant`` is a ``Tenant``, its primary key, or ``None`` (shared rows only). Rows of any
    other tenant are never returned.
    """
    from django.db.models import Q

    tenant_id = getattr(tenant, "pk", tenant)
    if tenant_id is None:
        return queryset.filter(tenant__isnull=True)
    return queryset.filter(Q(tenant__isnull=True) | Q(tenant_id=tenant_id))


def _may_choose(user: Any, row: LLMModel) -> bool:
    from ..models import LLMModel

    return row.is_default or LLMModel.objects.restrict(user, "view").filter(pk=row.pk).exists()


def model_choice(row: LLMModel) -> ModelChoice:
    """The :class:`ModelChoice` of an ``LLMModel`` row (reads its API key secret).

    Raises:
        NotConfiguredError: the provider is disabled or the secret cannot be read.
        PolicyError: a URL in the provider's or the model's config is outside the operator's
            outbound policy (checked again here: the row may predate the policy).
    """
    from ..policy import check_llm_config

    provider = row.provider
    if not provider.enabled:
        raise NotConfiguredError(
            f"Provider {provider.name!r} of model {row.name!r} is disabled: enable it or pick "
            "another model"
        )
    options: dict[str, Any] = {**(provider.config or {}), **(row.config or {})}
    check_llm_config(options, what=f"LLM model {row} config")
    if row.temperature is not None and _handler_accepts(provider.name, "temperature"):
        options["temperature"] = row.temperature
    if row.api_key_secret is not None:
        options["api_key"] = secret_value(row.api_key_secret, row, "API key")
    return ModelChoice(f"{provider.name}:{row.name}", options, row.pk)


def environment_choice() -> ModelChoice:
    """The LAB fallback model from ``AIOPS_MODEL`` (the provider reads its own key variable)."""
    spec = os.environ.get(ENV_MODEL, "").strip()
    if not spec:
        raise NotConfiguredError(
            "No LLM model is configured: add one under AI Ops > LLM Models and mark it default, "
            f"or (LAB only) set {ENV_MODEL}=provider:model, e.g. openai:gpt-4o-mini, plus the "
            "provider's API key variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...)"
        )
    if ":" not in spec and spec != "test":
        raise NotConfiguredError(f"{ENV_MODEL}={spec!r} must look like provider:model")
    return ModelChoice(spec, {})


def _handler_accepts(provider: str, key: str) -> bool:
    from aiops_core.errors import UnknownNameError
    from aiops_core.providers import get_provider

    try:
        handler = get_provider(provider)
    except (UnknownNameError, ImportError):
        return False
    return key in handler.Config.model_fields
