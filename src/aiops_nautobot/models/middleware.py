"""Middleware types (mirrors of the engine's registry) and their use on a model."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, extras_features

from aiops_core.middleware import MiddlewareSpec, get_middleware_type, parse_middleware_config

from ..policy import check_middleware_config
from ._validation import engine_check, policy_check, require_object
from .llm import FEATURES, LLMModel, tenant_field

__all__ = ["LLMMiddleware", "MiddlewareType"]


@extras_features(*FEATURES)
class MiddlewareType(PrimaryModel):
    """A middleware type of the engine's registry (seeded after every ``migrate``).

    ``default_config`` holds the defaults of the type's config schema.
    """

    name = models.CharField(max_length=100, unique=True, help_text="Registry name")
    is_builtin = models.BooleanField(default=False, help_text="Shipped with aiops")
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    default_config = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "middleware type"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        require_object(self.default_config, "default_config")

    @property
    def config_schema(self) -> dict | None:
        """The JSON schema of the type's config, or ``None`` if the engine does not know it."""
        from ..catalog import middleware_types

        cls = middleware_types().get(self.name)
        return cls.Config.model_json_schema() if cls is not None else None


@extras_features(*FEATURES)
class LLMMiddleware(PrimaryModel):
    """One middleware in a model's chain.

    Priority 1 is the outermost layer; equal priorities are ordered by type name. A row with a
    tenant applies only to that tenant's conversations; a row without one applies to all.
    """

    llm_model = models.ForeignKey(LLMModel, on_delete=models.CASCADE, related_name="middlewares")
    middleware_type = models.ForeignKey(
        MiddlewareType, on_delete=models.PROTECT, related_name="llm_middlewares"
    )
    config = models.JSONField(default=dict, blank=True, help_text="Values for the type's schema")
    priority = models.PositiveSmallIntegerField(
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="1 (outermost) to 100 (innermost)",
    )
    is_active = models.BooleanField(default=True)
    is_critical = models.BooleanField(
        default=False, help_text="If it cannot be built, the chat request fails"
    )
    tenant = tenant_field("aiops_llm_middlewares")

    class Meta:
        ordering = ["llm_model", "priority", "middleware_type__name"]
        verbose_name = "LLM middleware"
        verbose_name_plural = "LLM middleware"
        constraints = [
            models.UniqueConstraint(
                fields=["llm_model", "middleware_type"],
                name="aiops_nautobot_llmmiddleware_unique_model_type",
            )
        ]

    def __str__(self) -> str:
        if self.llm_model_id is None or self.middleware_type_id is None:
            return "LLM middleware"
        return f"{self.llm_model} / {self.middleware_type}"

    def clean(self) -> None:
        super().clean()
        require_object(self.config, "config")
        policy_check("config", lambda: check_middleware_config(self.config))
        if not isinstance(self.priority, int) or not 1 <= self.priority <= 100:
            raise ValidationError({"priority": "Priority must be between 1 and 100."})
        if (
            self.llm_model_id is not None
            and self.llm_model.tenant_id is not None
            and self.tenant_id not in (None, self.llm_model.tenant_id)
        ):
            raise ValidationError(
                {
                    "tenant": "The model belongs to another tenant: leave the tenant empty or use "
                    "the model's."
                }
            )
        if self.middleware_type_id is None:
            return
        name = self.middleware_type.name
        engine_check("middleware_type", lambda: get_middleware_type(name))
        engine_check("config", lambda: parse_middleware_config(self.to_spec()))

    @property
    def type_config_schema(self) -> dict | None:
        """The JSON schema of the chosen type's config (for the detail view)."""
        return self.middleware_type.config_schema if self.middleware_type_id else None

    def to_spec(self) -> MiddlewareSpec:
        """The engine's :class:`~aiops_core.middleware.MiddlewareSpec` of this row.

        The one place a spec is built from a row: validation and the chat both use it.
        """
        return MiddlewareSpec(
            self.middleware_type.name,
            priority=self.priority,
            config=dict(self.config),
            active=self.is_active,
            critical=self.is_critical,
        )
