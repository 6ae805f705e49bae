"""Filter sets of the app's models (REST API and UI list filters)."""

from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from nautobot.apps.filters import (
    BaseFilterSet,
    MultiValueCharFilter,
    NaturalKeyOrPKMultipleChoiceFilter,
    NautobotFilterSet,
    SearchFilter,
    TenancyModelFilterSetMixin,
)
from nautobot.extras.models import Secret

from . import models

__all__ = [
    "BudgetFilterSet",
    "ChangeSetFilterSet",
    "ConversationFilterSet",
    "LLMMiddlewareFilterSet",
    "LLMModelFilterSet",
    "LLMProviderFilterSet",
    "MCPHealthRecordFilterSet",
    "MCPServerFilterSet",
    "MCPToolFilterSet",
    "MiddlewareTypeFilterSet",
    "SystemPromptFilterSet",
    "ToolUsageRecordFilterSet",
    "UsageRecordFilterSet",
]


class LLMProviderFilterSet(NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.LLMProvider`."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})

    class Meta:
        model = models.LLMProvider
        fields = ["id", "name", "description", "documentation_url", "enabled", "tags"]


class SystemPromptFilterSet(TenancyModelFilterSetMixin, NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.SystemPrompt`."""

    q = SearchFilter(filter_predicates={"name": "icontains", "text": "icontains"})

    class Meta:
        model = models.SystemPrompt
        fields = ["id", "name", "status", "version", "tags"]


class LLMModelFilterSet(TenancyModelFilterSetMixin, NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.LLMModel`."""

    q = SearchFilter(
        filter_predicates={
            "name": "icontains",
            "description": "icontains",
            "provider__name": "icontains",
        }
    )
    provider = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=models.LLMProvider.objects.all(), to_field_name="name", label="Provider"
    )
    system_prompt = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=models.SystemPrompt.objects.all(), to_field_name="name", label="System prompt"
    )
    api_key_secret = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Secret.objects.all(), to_field_name="name", label="API key secret"
    )

    class Meta:
        model = models.LLMModel
        fields = [
            "id",
            "name",
            "description",
            "is_default",
            "temperature",
            "environment",
            "tags",
        ]


class MiddlewareTypeFilterSet(NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.MiddlewareType`."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})

    class Meta:
        model = models.MiddlewareType
        fields = ["id", "name", "is_builtin", "description", "tags"]


class LLMMiddlewareFilterSet(TenancyModelFilterSetMixin, NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.LLMMiddleware`."""

    q = SearchFilter(
        filter_predicates={"middleware_type__name": "icontains", "llm_model__name": "icontains"}
    )
    llm_model = django_filters.ModelMultipleChoiceFilter(
        queryset=models.LLMModel.objects.all(), label="LLM model (ID)"
    )
    middleware_type = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=models.MiddlewareType.objects.all(), to_field_name="name", label="Type"
    )

    class Meta:
        model = models.LLMMiddleware
        fields = ["id", "priority", "is_active", "is_critical", "tags"]


class MCPToolFilterSet(NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.MCPTool`."""

    q = SearchFilter(filter_predicates={"name": "icontains", "description": "icontains"})
    server = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=models.MCPServer.objects.all(), to_field_name="name", label="MCP server"
    )

    class Meta:
        model = models.MCPTool
        fields = ["id", "name", "server", "enabled", "access", "reviewed_at", "tags"]


class MCPServerFilterSet(TenancyModelFilterSetMixin, NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.MCPServer`."""

    q = SearchFilter(filter_predicates={"name": "icontains", "url": "icontains"})
    headers_secret = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=Secret.objects.all(), to_field_name="name", label="Headers secret"
    )

    class Meta:
        model = models.MCPServer
        fields = [
            "id",
            "name",
            "status",
            "protocol",
            "url",
            "command_name",
            "server_type",
            "verify_tls",
            "timeout_seconds",
            "forward_user_token",
            "tags",
        ]


class ConversationFilterSet(TenancyModelFilterSetMixin, NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.Conversation`."""

    q = SearchFilter(filter_predicates={"title": "icontains", "thread_id": "icontains"})
    owner = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="Owner"
    )
    llm_model = django_filters.ModelMultipleChoiceFilter(
        queryset=models.LLMModel.objects.all(), label="LLM model (ID)"
    )
    thread_id = MultiValueCharFilter()

    class Meta:
        model = models.Conversation
        fields = ["id", "thread_id", "title", "last_activity", "tags"]


class UsageRecordFilterSet(BaseFilterSet):
    """Filters of :class:`~aiops_nautobot.models.UsageRecord` (a log: no tags, no custom fields)."""

    q = SearchFilter(
        filter_predicates={"model": "icontains", "thread_id": "icontains", "run_id": "exact"}
    )
    model = MultiValueCharFilter(label="Model (provider:model)")
    provider = MultiValueCharFilter()
    outcome = MultiValueCharFilter()
    thread_id = MultiValueCharFilter(label="Thread")
    user = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="User"
    )
    llm_model = django_filters.ModelMultipleChoiceFilter(
        queryset=models.LLMModel.objects.all(), label="LLM model (ID)"
    )
    started_after = django_filters.DateTimeFilter(
        field_name="started_at", lookup_expr="gte", label="Started at or after"
    )
    started_before = django_filters.DateTimeFilter(
        field_name="started_at", lookup_expr="lte", label="Started at or before"
    )

    class Meta:
        model = models.UsageRecord
        fields = ["id", "run_id", "streaming"]


class ToolUsageRecordFilterSet(BaseFilterSet):
    """Filters of :class:`~aiops_nautobot.models.ToolUsageRecord`."""

    q = SearchFilter(filter_predicates={"tool": "icontains", "server": "icontains"})
    tool = MultiValueCharFilter()
    server = MultiValueCharFilter()
    outcome = MultiValueCharFilter()
    user = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="User"
    )

    class Meta:
        model = models.ToolUsageRecord
        fields = ["id", "run_id", "thread_id"]


class MCPHealthRecordFilterSet(BaseFilterSet):
    """Filters of :class:`~aiops_nautobot.models.MCPHealthRecord`."""

    q = SearchFilter(filter_predicates={"server__name": "icontains", "error": "icontains"})
    server = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=models.MCPServer.objects.all(), to_field_name="name", label="MCP server"
    )
    checked_after = django_filters.DateTimeFilter(
        field_name="checked_at", lookup_expr="gte", label="Checked at or after"
    )
    checked_before = django_filters.DateTimeFilter(
        field_name="checked_at", lookup_expr="lte", label="Checked at or before"
    )

    class Meta:
        model = models.MCPHealthRecord
        fields = ["id", "healthy"]


class BudgetFilterSet(NautobotFilterSet):
    """Filters of :class:`~aiops_nautobot.models.Budget`."""

    q = SearchFilter(filter_predicates={"name": "icontains"})
    user = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="User"
    )
    llm_model = django_filters.ModelMultipleChoiceFilter(
        queryset=models.LLMModel.objects.all(), label="LLM model (ID)"
    )

    class Meta:
        model = models.Budget
        fields = ["id", "name", "tenant", "period", "action", "enabled", "tags"]


class ChangeSetFilterSet(BaseFilterSet):
    """Filters of :class:`~aiops_nautobot.models.ChangeSet` (written by the chat: no tags)."""

    q = SearchFilter(filter_predicates={"summary": "icontains", "thread_id": "icontains"})
    owner = NaturalKeyOrPKMultipleChoiceFilter(
        queryset=get_user_model().objects.all(), to_field_name="username", label="Owner"
    )
    status = django_filters.MultipleChoiceFilter(choices=models.ChangeSetStatus.choices)
    thread_id = MultiValueCharFilter(label="Thread")

    class Meta:
        model = models.ChangeSet
        fields = ["id", "turn_id", "job_result"]
