"""LLM providers, models and system prompts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, extras_features

from ..catalog import provider_handler
from ..choices import EnvironmentChoices, SystemPromptStatusChoices
from ..policy import check_llm_config, check_secret_binding, llm_destinations
from ..prompts import render_prompt
from ._validation import engine_check, policy_check, require_object, stored_values

__all__ = ["LLMModel", "LLMProvider", "SystemPrompt", "tenant_field"]

FEATURES = ("custom_links", "custom_validators", "export_templates", "graphql", "webhooks")


def tenant_field(related_name: str, *, on_delete: Any = models.PROTECT) -> models.ForeignKey:
    """The optional tenant of a configuration row: empty means shared by every tenant.

    ``PROTECT`` by default: deleting a tenant must not turn its private rows into shared ones.
    """
    return models.ForeignKey(
        "tenancy.Tenant",
        on_delete=on_delete,
        null=True,
        blank=True,
        related_name=related_name,
        help_text="Empty: shared by every tenant (and conversations without a tenant)",
    )


@extras_features(*FEATURES)
class LLMProvider(PrimaryModel):
    """A provider handler (``openai``, ``anthropic``, ...) and its shared config.

    ``name`` is a handler name from the engine's registry, or a custom name; for a registered
    handler, ``config`` is validated against the handler's config schema. URLs in ``config``
    must be allowed by the operator's outbound policy (``allowed_urls['llm']``).
    """

    name = models.CharField(max_length=100, unique=True, help_text="Registry handler name")
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    documentation_url = models.URLField(blank=True, max_length=500)
    config = models.JSONField(
        default=dict, blank=True, help_text="Handler settings shared by all its models (JSON)"
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "LLM provider"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        config = require_object(self.config, "config")
        handler = engine_check("name", lambda: provider_handler(self.name))
        if handler is not None:
            engine_check("config", lambda: handler.parse_config(config))
        policy_check("config", lambda: check_llm_config(config))
        stored = stored_values(self, ("config",))
        if stored is not None and llm_destinations(stored["config"] or {}) != llm_destinations(
            config
        ):
            # The models' API keys would follow the provider's new URLs.
            for secret in self._bound_secrets():
                policy_check(
                    "config", lambda s=secret: check_secret_binding(s, what="Changing these URLs")
                )

    def _bound_secrets(self) -> list[Any]:
        from nautobot.extras.models import Secret

        return list(Secret.objects.filter(aiops_llm_models__provider=self).distinct())


@extras_features(*FEATURES)
class SystemPrompt(PrimaryModel):
    """A versioned system prompt with ``{placeholder}`` substitution.

    ``version`` starts at 1 and goes up by one each time a save changes ``text``.
    """

    name = models.CharField(max_length=100, unique=True)
    text = models.TextField(
        help_text="Placeholders: {current_date}, {current_time}, {model_name}, {provider}, "
        "{environment}, {user}; other braces are kept as written"
    )
    status = models.CharField(
        max_length=20,
        choices=SystemPromptStatusChoices,
        default=SystemPromptStatusChoices.ACTIVE,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    tenant = tenant_field("aiops_system_prompts")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self._state.adding:
            stored = type(self).objects.filter(pk=self.pk).values_list("text", "version").first()
            if stored is not None and stored[0] != self.text:
                self.version = stored[1] + 1
                update_fields = kwargs.get("update_fields")
                if update_fields is not None and "version" not in update_fields:
                    kwargs["update_fields"] = [*update_fields, "version"]
        super().save(*args, **kwargs)

    def render(self, **values: object) -> str:
        """The text with the known placeholders in ``values`` replaced."""
        return render_prompt(self.text, values)


@extras_features(*FEATURES)
class LLMModel(PrimaryModel):
    """A model of a provider (model id, or deployment name for Azure) and its settings.

    The API key is a reference to a Nautobot ``Secret``; its value never leaves the Secret.
    Binding the Secret, or changing where the model sends it (provider, URLs in ``config``),
    needs the change permission on that Secret. At most one shared model (no tenant) is the
    default, and at most one model per tenant is that tenant's default, both enforced by partial
    unique indexes.
    """

    provider = models.ForeignKey(LLMProvider, on_delete=models.PROTECT, related_name="models")
    name = models.CharField(max_length=CHARFIELD_MAX_LENGTH, help_text="Model id or deployment")
    description = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    api_key_secret = models.ForeignKey(
        "extras.Secret",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aiops_llm_models",
        help_text="Secret holding the API key",
    )
    is_default = models.BooleanField(default=False, help_text="The model used when none is named")
    # Prices in USD per million tokens; empty means unknown (never free).
    input_price = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="USD per million input tokens; empty: unknown",
    )
    output_price = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="USD per million output tokens; empty: unknown",
    )
    cached_input_price = models.DecimalField(
        max_digits=20,
        decimal_places=10,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="USD per million cached input tokens; empty: the input price",
    )
    temperature = models.FloatField(
        null=True,
        blank=True,
        default=None,
        validators=[MinValueValidator(0.0), MaxValueValidator(2.0)],
        help_text="Sampling temperature; empty: the provider's default (the only value "
        "reasoning models accept)",
    )
    config = models.JSONField(
        default=dict, blank=True, help_text="Handler settings overriding the provider's (JSON)"
    )
    environment = models.CharField(
        max_length=10, choices=EnvironmentChoices, default=EnvironmentChoices.LAB
    )
    system_prompt = models.ForeignKey(
        SystemPrompt,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="llm_models",
    )
    tenant = tenant_field("aiops_llm_models")

    # The partial unique index on is_default must not become the natural key.
    natural_key_field_names = ["provider", "name"]

    class Meta:
        ordering = ["provider", "name"]
        verbose_name = "LLM model"
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "name"], name="aiops_nautobot_llmmodel_unique_provider_name"
            ),
            # Expressions, not fields: REST serializers would turn a one-field constraint into a
            # validator that ignores the condition; full_clean() checks these with the condition.
            models.UniqueConstraint(
                F("is_default"),
                condition=Q(is_default=True, tenant__isnull=True),
                name="aiops_nautobot_llmmodel_single_default",
                violation_error_message="Another shared LLM model (no tenant) is already the "
                "default: clear its default flag first, or set a tenant on this one.",
            ),
            models.UniqueConstraint(
                F("tenant"),
                condition=Q(is_default=True, tenant__isnull=False),
                name="aiops_nautobot_llmmodel_single_tenant_default",
                violation_error_message="Another LLM model is already the default of this "
                "tenant: clear the default flag of that model first.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.name}" if self.provider_id else self.name

    def clean(self) -> None:
        super().clean()
        config = require_object(self.config, "config")
        if self.provider_id is None:
            return
        handler = engine_check("provider", lambda: provider_handler(self.provider.name))
        # Model settings override the provider's, and the temperature field goes in too: the
        # merged config is what the engine uses (thinking, for one, rules out temperatures).
        merged = {**(self.provider.config or {}), **config}
        if handler is not None:
            if self.temperature is not None and "temperature" in handler.Config.model_fields:
                merged["temperature"] = self.temperature
            engine_check("config", lambda: handler.parse_config(merged))
        policy_check("config", lambda: check_llm_config(merged))
        if (
            self.tenant_id is not None
            and self.system_prompt_id is not None
            and self.system_prompt.tenant_id not in (None, self.tenant_id)
        ):
            raise ValidationError(
                {
                    "system_prompt": "This prompt belongs to another tenant: pick a shared prompt "
                    "or one of the model's tenant."
                }
            )
        if self.tenant_id is None and self.system_prompt_id and self.system_prompt.tenant_id:
            raise ValidationError(
                {"system_prompt": "A shared model (no tenant) needs a shared prompt (no tenant)."}
            )
        if self.api_key_secret_id is not None:
            stored = stored_values(self, ("api_key_secret_id", "provider_id", "config"))
            moved = stored is None or (
                stored["api_key_secret_id"] != self.api_key_secret_id
                or stored["provider_id"] != self.provider_id
                or llm_destinations(stored["config"] or {}) != llm_destinations(config)
            )
            if moved:
                policy_check(
                    "api_key_secret",
                    lambda: check_secret_binding(self.api_key_secret, what="This change"),
                )

    @property
    def spec(self) -> str:
        """The engine's ``"provider:model"`` string."""
        return f"{self.provider.name}:{self.name}"
