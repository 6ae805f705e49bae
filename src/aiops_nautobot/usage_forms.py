"""UI forms of usage records, MCP health history, change sets and budgets (list filters, budget
add/edit)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from nautobot.apps.forms import (
    BulkEditNullBooleanSelect,
    DateTimePicker,
    DynamicModelChoiceField,
    DynamicModelMultipleChoiceField,
    NautobotBulkEditForm,
    NautobotFilterForm,
    NautobotModelForm,
    StaticSelect2,
    StaticSelect2Multiple,
    TagFilterField,
    TagsBulkEditFormMixin,
    add_blank_choice,
)
from nautobot.tenancy.models import Tenant

from . import models
from .models.usage import BudgetActionChoices, BudgetPeriodChoices

__all__ = [
    "BudgetBulkEditForm",
    "BudgetFilterForm",
    "BudgetForm",
    "ChangeSetFilterForm",
    "MCPHealthRecordFilterForm",
    "ToolUsageRecordFilterForm",
    "UsagePeriodForm",
    "UsageRecordFilterForm",
]

PERIOD_DAYS = (7, 30, 90)


class UsageRecordFilterForm(NautobotFilterForm):
    model = models.UsageRecord
    q = forms.CharField(required=False, label="Search")
    model_ = forms.CharField(required=False, label="Model (provider:model)")
    provider = forms.CharField(required=False)
    user = DynamicModelMultipleChoiceField(
        queryset=get_user_model().objects.all(),
        to_field_name="username",
        required=False,
    )
    thread_id = forms.CharField(required=False, label="Thread")
    outcome = forms.CharField(required=False, help_text="ok, or an error class")
    started_after = forms.DateTimeField(required=False, widget=DateTimePicker())
    started_before = forms.DateTimeField(required=False, widget=DateTimePicker())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "model" is the form's model class attribute; the field keeps the filter's name.
        self.fields["model"] = self.fields.pop("model_")


class ToolUsageRecordFilterForm(NautobotFilterForm):
    model = models.ToolUsageRecord
    q = forms.CharField(required=False, label="Search")
    tool = forms.CharField(required=False)
    server = forms.CharField(required=False, label="MCP server")
    user = DynamicModelMultipleChoiceField(
        queryset=get_user_model().objects.all(), to_field_name="username", required=False
    )
    outcome = forms.CharField(required=False, help_text="ok, paused, or an error class")


class MCPHealthRecordFilterForm(NautobotFilterForm):
    model = models.MCPHealthRecord
    q = forms.CharField(required=False, label="Search")
    server = DynamicModelMultipleChoiceField(
        queryset=models.MCPServer.objects.all(), to_field_name="name", required=False
    )
    healthy = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    checked_after = forms.DateTimeField(required=False, widget=DateTimePicker())
    checked_before = forms.DateTimeField(required=False, widget=DateTimePicker())


class ChangeSetFilterForm(NautobotFilterForm):
    model = models.ChangeSet
    q = forms.CharField(required=False, label="Search")
    owner = DynamicModelMultipleChoiceField(
        queryset=get_user_model().objects.all(), to_field_name="username", required=False
    )
    status = forms.MultipleChoiceField(
        choices=models.ChangeSetStatus.choices, required=False, widget=StaticSelect2Multiple()
    )
    thread_id = forms.CharField(required=False, label="Thread")


class UsagePeriodForm(forms.Form):
    """The period of the usage dashboard and the tool analytics: the last 7, 30 or 90 days."""

    days = forms.TypedChoiceField(
        choices=[(d, f"Last {d} days") for d in PERIOD_DAYS],
        coerce=int,
        initial=30,
        required=False,
        error_messages={
            "invalid_choice": "Choose a period of 7, 30 or 90 days (got %(value)s).",
        },
    )


class BudgetForm(NautobotModelForm):
    user = DynamicModelChoiceField(
        queryset=get_user_model().objects.all(),
        required=False,
        help_text="Set at most one of user, tenant and LLM model; none: all calls",
    )
    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)
    llm_model = DynamicModelChoiceField(
        queryset=models.LLMModel.objects.all(), required=False, label="LLM model"
    )
    fallback_model = DynamicModelChoiceField(
        queryset=models.LLMModel.objects.all(),
        required=False,
        help_text="Only with the action 'Fall back to a cheaper model'",
    )

    class Meta:
        model = models.Budget
        fields = [
            "name",
            "user",
            "tenant",
            "llm_model",
            "period",
            "limit",
            "action",
            "fallback_model",
            "enabled",
            "tags",
        ]


class BudgetBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.Budget.objects.all(), widget=forms.MultipleHiddenInput
    )
    period = forms.ChoiceField(
        choices=add_blank_choice(BudgetPeriodChoices.choices), required=False, widget=StaticSelect2
    )
    limit = forms.DecimalField(required=False, min_value=0, max_digits=14, decimal_places=4)
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)

    class Meta:
        nullable_fields: list[str] = []


class BudgetFilterForm(NautobotFilterForm):
    model = models.Budget
    q = forms.CharField(required=False, label="Search")
    period = forms.MultipleChoiceField(
        choices=BudgetPeriodChoices.choices, required=False, widget=StaticSelect2Multiple
    )
    action = forms.MultipleChoiceField(
        choices=BudgetActionChoices.choices, required=False, widget=StaticSelect2Multiple
    )
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    tags = TagFilterField(model)
