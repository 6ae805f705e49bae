"""UI forms: add/edit, bulk edit and list filters for every model."""

from __future__ import annotations

import json

from django import forms
from nautobot.apps.forms import (
    BulkEditNullBooleanSelect,
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
from nautobot.extras.models import Secret
from nautobot.tenancy.forms import TenancyFilterForm, TenancyForm
from nautobot.tenancy.models import Tenant

from . import choices, models
from .settings import get_settings


class EmptyJSONMixin:
    """An emptied JSON field means ``{}`` (or ``[]``), not SQL NULL."""

    json_defaults: dict[str, object] = {}

    def clean(self):
        super().clean()
        for name, empty in self.json_defaults.items():
            if name in self.cleaned_data and self.cleaned_data[name] is None:
                self.cleaned_data[name] = type(empty)()
        return self.cleaned_data


# -- LLM providers -------------------------------------------------------------------------------
class LLMProviderForm(EmptyJSONMixin, NautobotModelForm):
    json_defaults = {"config": {}}
    documentation_url = forms.URLField(required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = models.LLMProvider
        fields = ["name", "description", "documentation_url", "config", "enabled", "tags"]


class LLMProviderBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.LLMProvider.objects.all(), widget=forms.MultipleHiddenInput
    )
    description = forms.CharField(required=False)
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)

    class Meta:
        nullable_fields = ["description"]


class LLMProviderFilterForm(NautobotFilterForm):
    model = models.LLMProvider
    q = forms.CharField(required=False, label="Search")
    name = forms.CharField(required=False)
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    tags = TagFilterField(model)


# -- System prompts ------------------------------------------------------------------------------
class SystemPromptForm(TenancyForm, NautobotModelForm):
    class Meta:
        model = models.SystemPrompt
        fields = ["name", "text", "status", "tenant_group", "tenant", "tags"]


class SystemPromptBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.SystemPrompt.objects.all(), widget=forms.MultipleHiddenInput
    )
    status = forms.ChoiceField(
        choices=add_blank_choice(choices.SystemPromptStatusChoices),
        required=False,
        widget=StaticSelect2,
    )

    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)

    class Meta:
        nullable_fields = ["tenant"]


class SystemPromptFilterForm(TenancyFilterForm, NautobotFilterForm):
    model = models.SystemPrompt
    q = forms.CharField(required=False, label="Search")
    status = forms.MultipleChoiceField(
        choices=choices.SystemPromptStatusChoices, required=False, widget=StaticSelect2Multiple
    )
    tags = TagFilterField(model)


# -- LLM models ----------------------------------------------------------------------------------
class LLMModelForm(TenancyForm, EmptyJSONMixin, NautobotModelForm):
    json_defaults = {"config": {}}
    provider = DynamicModelChoiceField(queryset=models.LLMProvider.objects.all())
    api_key_secret = DynamicModelChoiceField(
        queryset=Secret.objects.all(),
        required=False,
        label="API key secret",
        help_text="A Nautobot Secret holding the API key; the key itself is never stored here "
        "(binding it needs the change permission on that Secret)",
    )
    system_prompt = DynamicModelChoiceField(
        queryset=models.SystemPrompt.objects.all(), required=False
    )

    class Meta:
        model = models.LLMModel
        fields = [
            "provider",
            "name",
            "description",
            "api_key_secret",
            "is_default",
            "temperature",
            "environment",
            "system_prompt",
            "config",
            "tenant_group",
            "tenant",
            "tags",
        ]


class LLMModelBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.LLMModel.objects.all(), widget=forms.MultipleHiddenInput
    )
    description = forms.CharField(required=False)
    temperature = forms.FloatField(required=False, min_value=0.0, max_value=2.0)
    environment = forms.ChoiceField(
        choices=add_blank_choice(choices.EnvironmentChoices), required=False, widget=StaticSelect2
    )
    system_prompt = DynamicModelChoiceField(
        queryset=models.SystemPrompt.objects.all(), required=False
    )
    api_key_secret = DynamicModelChoiceField(queryset=Secret.objects.all(), required=False)

    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)

    class Meta:
        nullable_fields = ["description", "system_prompt", "api_key_secret", "tenant"]


class LLMModelFilterForm(TenancyFilterForm, NautobotFilterForm):
    model = models.LLMModel
    q = forms.CharField(required=False, label="Search")
    provider = DynamicModelMultipleChoiceField(
        queryset=models.LLMProvider.objects.all(), to_field_name="name", required=False
    )
    environment = forms.MultipleChoiceField(
        choices=choices.EnvironmentChoices, required=False, widget=StaticSelect2Multiple
    )
    is_default = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    tags = TagFilterField(model)


# -- Middleware types ----------------------------------------------------------------------------
class MiddlewareTypeForm(EmptyJSONMixin, NautobotModelForm):
    json_defaults = {"default_config": {}}

    class Meta:
        model = models.MiddlewareType
        fields = ["name", "is_builtin", "description", "default_config", "tags"]


class MiddlewareTypeBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.MiddlewareType.objects.all(), widget=forms.MultipleHiddenInput
    )
    description = forms.CharField(required=False)

    class Meta:
        nullable_fields = ["description"]


class MiddlewareTypeFilterForm(NautobotFilterForm):
    model = models.MiddlewareType
    q = forms.CharField(required=False, label="Search")
    is_builtin = forms.NullBooleanField(
        required=False, widget=BulkEditNullBooleanSelect, label="Built-in"
    )
    tags = TagFilterField(model)


# -- LLM middleware ------------------------------------------------------------------------------
class LLMMiddlewareForm(TenancyForm, EmptyJSONMixin, NautobotModelForm):
    json_defaults = {"config": {}}
    llm_model = DynamicModelChoiceField(queryset=models.LLMModel.objects.all(), label="LLM model")
    middleware_type = DynamicModelChoiceField(
        queryset=models.MiddlewareType.objects.all(),
        label="Type",
        help_text="Each type's config schema and defaults are shown on its detail page",
    )

    class Meta:
        model = models.LLMMiddleware
        fields = [
            "llm_model",
            "middleware_type",
            "priority",
            "config",
            "is_active",
            "is_critical",
            "tenant_group",
            "tenant",
            "tags",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = self._chosen_type()
        if chosen is not None:
            self.fields["config"].help_text = describe_config(chosen)

    def _chosen_type(self) -> models.MiddlewareType | None:
        if self.instance.middleware_type_id:
            return self.instance.middleware_type
        pk = self.initial.get("middleware_type") or self.data.get("middleware_type")
        if not pk:
            return None
        try:
            return models.MiddlewareType.objects.get(pk=pk)
        except (models.MiddlewareType.DoesNotExist, ValueError, TypeError):
            return None


def describe_config(middleware_type: models.MiddlewareType) -> str:
    """Help text naming a middleware type's config fields and defaults."""
    schema = middleware_type.config_schema or {}
    fields = ", ".join(sorted(schema.get("properties", {}))) or "none"
    defaults = json.dumps(middleware_type.default_config, sort_keys=True)
    return f"{middleware_type.name} settings: {fields}. Defaults: {defaults}"


class LLMMiddlewareBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.LLMMiddleware.objects.all(), widget=forms.MultipleHiddenInput
    )
    priority = forms.IntegerField(required=False, min_value=1, max_value=100)
    is_active = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    is_critical = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)

    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)

    class Meta:
        nullable_fields = ["tenant"]


class LLMMiddlewareFilterForm(TenancyFilterForm, NautobotFilterForm):
    model = models.LLMMiddleware
    q = forms.CharField(required=False, label="Search")
    llm_model = DynamicModelMultipleChoiceField(
        queryset=models.LLMModel.objects.all(), required=False, label="LLM model"
    )
    middleware_type = DynamicModelMultipleChoiceField(
        queryset=models.MiddlewareType.objects.all(), to_field_name="name", required=False
    )
    is_active = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    tags = TagFilterField(model)


# -- MCP servers ---------------------------------------------------------------------------------
class MCPServerForm(TenancyForm, EmptyJSONMixin, NautobotModelForm):
    json_defaults = {"allowed_tools": [], "denied_tools": []}
    url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text="Base URL (http protocol)",
    )
    command_name = forms.ChoiceField(
        required=False,
        label="Command",
        widget=StaticSelect2,
        help_text="stdio protocol: one of the commands the operator allows in PLUGINS_CONFIG "
        "(stdio_commands)",
    )
    headers_secret = DynamicModelChoiceField(
        queryset=Secret.objects.all(),
        required=False,
        help_text="A Nautobot Secret whose value is a JSON object of HTTP headers (binding it "
        "needs the change permission on that Secret)",
    )
    oauth_secret = DynamicModelChoiceField(
        queryset=Secret.objects.all(),
        required=False,
        label="OAuth secret",
        help_text="A Nautobot Secret holding the OAuth client secret or PEM private key (binding "
        "it needs the change permission on that Secret)",
    )

    class Meta:
        model = models.MCPServer
        fields = [
            "name",
            "status",
            "protocol",
            "url",
            "mcp_endpoint",
            "health_check",
            "command_name",
            "headers_secret",
            "server_type",
            "allowed_tools",
            "denied_tools",
            "verify_tls",
            "timeout_seconds",
            "forward_user_token",
            "oauth_grant",
            "oauth_client_id",
            "oauth_secret",
            "oauth_private_key",
            "oauth_scopes",
            "tenant_group",
            "tenant",
            "tags",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = sorted(get_settings().security.stdio_commands)
        self.fields["command_name"].choices = [("", "---------"), *((n, n) for n in names)]
        self.fields["oauth_grant"].required = False  # left out: no OAuth

    def clean_oauth_grant(self) -> str:
        return str(self.cleaned_data.get("oauth_grant") or choices.MCPOAuthGrantChoices.NONE)


class MCPServerBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.MCPServer.objects.all(), widget=forms.MultipleHiddenInput
    )
    # Only a health check marks a server healthy: a user may take servers out of use.
    status = forms.ChoiceField(
        choices=add_blank_choice(
            [
                (value, label)
                for value, label in choices.MCPServerStatusChoices.CHOICES
                if value != choices.MCPServerStatusChoices.HEALTHY
            ]
        ),
        required=False,
        widget=StaticSelect2,
    )
    server_type = forms.ChoiceField(
        choices=add_blank_choice(choices.MCPServerTypeChoices), required=False, widget=StaticSelect2
    )
    verify_tls = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    timeout_seconds = forms.IntegerField(required=False, min_value=1, max_value=3600)

    tenant = DynamicModelChoiceField(queryset=Tenant.objects.all(), required=False)

    class Meta:
        nullable_fields = ["tenant"]


class MCPServerFilterForm(TenancyFilterForm, NautobotFilterForm):
    model = models.MCPServer
    q = forms.CharField(required=False, label="Search")
    status = forms.MultipleChoiceField(
        choices=choices.MCPServerStatusChoices, required=False, widget=StaticSelect2Multiple
    )
    protocol = forms.MultipleChoiceField(
        choices=choices.MCPProtocolChoices, required=False, widget=StaticSelect2Multiple
    )
    server_type = forms.MultipleChoiceField(
        choices=choices.MCPServerTypeChoices, required=False, widget=StaticSelect2Multiple
    )
    tags = TagFilterField(model)


# -- MCP tools -----------------------------------------------------------------------------------
class MCPToolForm(NautobotModelForm):
    """Tools come from discovery: the form switches them, sets their access and records a
    review (the reviewer is the user saving the form)."""

    server = DynamicModelChoiceField(queryset=models.MCPServer.objects.all())
    mark_reviewed = forms.BooleanField(
        required=False,
        label="Mark reviewed",
        help_text="I reviewed the tool's current definition (description and input schema)",
    )

    class Meta:
        model = models.MCPTool
        fields = ["server", "name", "enabled", "access", "mark_reviewed", "tags"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.present_in_database:  # a tool is its server's: never moved or renamed
            del self.fields["server"], self.fields["name"]


class MCPToolBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.MCPTool.objects.all(), widget=forms.MultipleHiddenInput
    )
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    access = forms.ChoiceField(
        choices=add_blank_choice(choices.MCPToolAccessChoices), required=False, widget=StaticSelect2
    )

    class Meta:
        nullable_fields: list[str] = []


class MCPToolFilterForm(NautobotFilterForm):
    model = models.MCPTool
    q = forms.CharField(required=False, label="Search")
    server = DynamicModelMultipleChoiceField(
        queryset=models.MCPServer.objects.all(), to_field_name="name", required=False
    )
    enabled = forms.NullBooleanField(required=False, widget=BulkEditNullBooleanSelect)
    access = forms.MultipleChoiceField(
        choices=choices.MCPToolAccessChoices, required=False, widget=StaticSelect2Multiple
    )
    tags = TagFilterField(model)


# -- Conversations -------------------------------------------------------------------------------
class ConversationForm(NautobotModelForm):
    """Owner is not a field: a new conversation belongs to the user who creates it."""

    llm_model = DynamicModelChoiceField(
        queryset=models.LLMModel.objects.all(), required=False, label="LLM model"
    )

    class Meta:
        model = models.Conversation
        fields = ["title", "llm_model", "tags"]


class ConversationBulkEditForm(TagsBulkEditFormMixin, NautobotBulkEditForm):
    pk = forms.ModelMultipleChoiceField(
        queryset=models.Conversation.objects.all(), widget=forms.MultipleHiddenInput
    )
    title = forms.CharField(required=False)
    llm_model = DynamicModelChoiceField(queryset=models.LLMModel.objects.all(), required=False)

    class Meta:
        nullable_fields = ["title", "llm_model"]


class ConversationFilterForm(TenancyFilterForm, NautobotFilterForm):
    model = models.Conversation
    q = forms.CharField(required=False, label="Search")
    title = forms.CharField(required=False)
    tags = TagFilterField(model)


# -- Usage, MCP health history and budgets (in usage_forms; here for Nautobot's form lookup) -----
from .usage_forms import (  # noqa: E402, F401
    BudgetBulkEditForm,
    BudgetFilterForm,
    BudgetForm,
    MCPHealthRecordFilterForm,
    ToolUsageRecordFilterForm,
    UsageRecordFilterForm,
)
