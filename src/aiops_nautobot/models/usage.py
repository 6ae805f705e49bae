"""Usage records (one row per model call and per tool call), budgets, MCP health history."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import BaseModel, PrimaryModel, extras_features

from .llm import LLMModel

__all__ = ["Budget", "MCPHealthRecord", "ToolUsageRecord", "UsageRecord"]

_PRICE = {"max_digits": 20, "decimal_places": 10}


class UsageRecord(BaseModel):
    """One model call: tokens, latency, outcome and its cost frozen at call time.

    Written by the app's usage recorder (not change-logged: it is a log, not configuration);
    pruned by the cleanup job after ``usage_retention_days``.
    """

    run_id = models.CharField(max_length=64, db_index=True)
    thread_id = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aiops_usage_records",
    )
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    llm_model = models.ForeignKey(
        LLMModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="usage_records"
    )
    model = models.CharField(max_length=CHARFIELD_MAX_LENGTH, help_text="provider:model called")
    provider = models.CharField(max_length=100)
    started_at = models.DateTimeField(db_index=True)
    latency = models.FloatField(help_text="Seconds")
    time_to_first_token = models.FloatField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cached_tokens = models.PositiveIntegerField(default=0)
    reasoning_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(null=True, blank=True, help_text="USD; empty: unknown", **_PRICE)
    outcome = models.CharField(max_length=100, default="ok")
    step = models.PositiveIntegerField(default=0)
    streaming = models.BooleanField(default=False)
    fallback_from = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "usage record"

    def __str__(self) -> str:
        return f"{self.model} {self.started_at:%Y-%m-%d %H:%M:%S}"


class ToolUsageRecord(BaseModel):
    """One tool call: tool, MCP server, latency, outcome and result size."""

    run_id = models.CharField(max_length=64, db_index=True)
    thread_id = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aiops_tool_usage_records",
    )
    tool = models.CharField(max_length=CHARFIELD_MAX_LENGTH)
    server = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    started_at = models.DateTimeField(db_index=True)
    latency = models.FloatField(help_text="Seconds")
    outcome = models.CharField(max_length=100, default="ok")
    result_chars = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "tool usage record"

    def __str__(self) -> str:
        return f"{self.tool} {self.started_at:%Y-%m-%d %H:%M:%S}"


class MCPHealthRecord(BaseModel):
    """One health check of an MCP server (the health history)."""

    server = models.ForeignKey(
        "aiops_nautobot.MCPServer", on_delete=models.CASCADE, related_name="health_records"
    )
    checked_at = models.DateTimeField(db_index=True)
    healthy = models.BooleanField()
    error = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["-checked_at"]
        verbose_name = "MCP health record"

    def __str__(self) -> str:
        return f"{self.server} {'up' if self.healthy else 'down'} {self.checked_at:%Y-%m-%d %H:%M}"


class BudgetPeriodChoices(models.TextChoices):
    DAY = "day", "Day"
    MONTH = "month", "Month"


class BudgetActionChoices(models.TextChoices):
    REFUSE = "refuse", "Refuse"
    FALLBACK = "fallback", "Fall back to a cheaper model"


@extras_features("custom_validators", "export_templates", "graphql", "webhooks")
class Budget(PrimaryModel):
    """A cap on dollars spent per day or month by one user, one tenant, one model, or all.

    Set at most one of ``user``, ``tenant`` and ``llm_model``; none is a budget for all calls.
    Checked before each model call (see ``aiops_core.usage.budgets`` for the concurrency bound).
    """

    name = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="aiops_budgets",
    )
    tenant = models.ForeignKey(
        "tenancy.Tenant", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    llm_model = models.ForeignKey(
        LLMModel, on_delete=models.CASCADE, null=True, blank=True, related_name="budgets"
    )
    period = models.CharField(
        max_length=10, choices=BudgetPeriodChoices.choices, default=BudgetPeriodChoices.DAY
    )
    limit = models.DecimalField(
        max_digits=14, decimal_places=4, validators=[MinValueValidator(0)], help_text="USD"
    )
    action = models.CharField(
        max_length=10, choices=BudgetActionChoices.choices, default=BudgetActionChoices.REFUSE
    )
    fallback_model = models.ForeignKey(
        LLMModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        subjects = [f for f in ("user_id", "tenant_id", "llm_model_id") if getattr(self, f)]
        if len(subjects) > 1:
            raise ValidationError(
                "Set at most one of user, tenant and LLM model (clear the others); "
                "none of them makes a budget for all calls."
            )
        if self.action == BudgetActionChoices.FALLBACK and self.fallback_model_id is None:
            raise ValidationError(
                {"fallback_model": "Choose the model to fall back to, or set the action to Refuse."}
            )
        if self.action != BudgetActionChoices.FALLBACK and self.fallback_model_id is not None:
            raise ValidationError(
                {
                    "fallback_model": "Clear the fallback model, or set the action to "
                    "'Fall back to a cheaper model'."
                }
            )
        if self.fallback_model_id is not None and self.fallback_model_id == self.llm_model_id:
            raise ValidationError({"fallback_model": "Fall back to a different model."})
        fallback_tenant = self.fallback_model.tenant_id if self.fallback_model_id else None
        if fallback_tenant is not None and fallback_tenant != self.tenant_id:
            raise ValidationError(
                {
                    "fallback_model": "This model belongs to a tenant: a budget may fall back only "
                    "to a shared model, or to a model of the budget's own tenant."
                }
            )
