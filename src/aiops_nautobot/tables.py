"""List-view tables of the app's models."""

from __future__ import annotations

from decimal import Decimal

import django_tables2 as tables
from nautobot.apps.tables import BaseTable, BooleanColumn, ButtonsColumn, TagColumn, ToggleColumn
from nautobot.tenancy.tables import TenantColumn

from . import models

__all__ = [
    "BudgetTable",
    "ChangeSetTable",
    "ConversationTable",
    "CostColumn",
    "LLMMiddlewareTable",
    "LLMModelTable",
    "LLMProviderTable",
    "MCPHealthRecordTable",
    "MCPServerTable",
    "MCPToolTable",
    "MiddlewareTypeTable",
    "SystemPromptTable",
    "ToolUsageRecordTable",
    "UsageRecordTable",
]

UNKNOWN_COST = "unknown"
"""How a call (or a sum) without a known price is shown: never as 0."""


def format_cost(value: Decimal | None) -> str:
    """``$0.0123`` for a known cost, ``unknown`` for ``None``."""
    return UNKNOWN_COST if value is None else f"${value:,.4f}"


class CostColumn(tables.Column):
    """A USD cost; an empty cost (the model had no price) is shown as "unknown", not 0."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default", UNKNOWN_COST)
        super().__init__(**kwargs)

    def render(self, value):
        return format_cost(value)


class LLMProviderTable(BaseTable):
    """Table of LLM providers."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    enabled = BooleanColumn()
    tags = TagColumn(url_name="plugins:aiops_nautobot:llmprovider_list")
    actions = ButtonsColumn(models.LLMProvider)

    class Meta(BaseTable.Meta):
        model = models.LLMProvider
        fields = ("pk", "name", "description", "enabled", "documentation_url", "tags", "actions")
        default_columns = ("pk", "name", "description", "enabled", "actions")


class SystemPromptTable(BaseTable):
    """Table of system prompts."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    tenant = TenantColumn()
    tags = TagColumn(url_name="plugins:aiops_nautobot:systemprompt_list")
    actions = ButtonsColumn(models.SystemPrompt)

    class Meta(BaseTable.Meta):
        model = models.SystemPrompt
        fields = ("pk", "name", "status", "version", "tenant", "tags", "actions")
        default_columns = ("pk", "name", "status", "version", "tenant", "actions")


class LLMModelTable(BaseTable):
    """Table of LLM models."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    provider = tables.Column(linkify=True)
    is_default = BooleanColumn()
    api_key_secret = tables.Column(linkify=True, verbose_name="API key secret")
    system_prompt = tables.Column(linkify=True)
    tenant = TenantColumn()
    tags = TagColumn(url_name="plugins:aiops_nautobot:llmmodel_list")
    actions = ButtonsColumn(models.LLMModel)

    class Meta(BaseTable.Meta):
        model = models.LLMModel
        fields = (
            "pk",
            "name",
            "provider",
            "description",
            "environment",
            "is_default",
            "temperature",
            "api_key_secret",
            "system_prompt",
            "tenant",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "provider",
            "environment",
            "is_default",
            "temperature",
            "system_prompt",
            "tenant",
            "actions",
        )


class MiddlewareTypeTable(BaseTable):
    """Table of middleware types."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    is_builtin = BooleanColumn(verbose_name="Built-in")
    tags = TagColumn(url_name="plugins:aiops_nautobot:middlewaretype_list")
    actions = ButtonsColumn(models.MiddlewareType)

    class Meta(BaseTable.Meta):
        model = models.MiddlewareType
        fields = ("pk", "name", "is_builtin", "description", "tags", "actions")
        default_columns = ("pk", "name", "is_builtin", "description", "actions")


class LLMMiddlewareTable(BaseTable):
    """Table of middleware attached to models."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True, accessor="pk", verbose_name="Middleware", orderable=False)
    llm_model = tables.Column(linkify=True, verbose_name="LLM model")
    middleware_type = tables.Column(linkify=True, verbose_name="Type")
    is_active = BooleanColumn(verbose_name="Active")
    is_critical = BooleanColumn(verbose_name="Critical")
    tenant = TenantColumn()
    tags = TagColumn(url_name="plugins:aiops_nautobot:llmmiddleware_list")
    actions = ButtonsColumn(models.LLMMiddleware)

    class Meta(BaseTable.Meta):
        model = models.LLMMiddleware
        fields = (
            "pk",
            "name",
            "llm_model",
            "middleware_type",
            "priority",
            "is_active",
            "is_critical",
            "tenant",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "llm_model",
            "middleware_type",
            "priority",
            "is_active",
            "is_critical",
            "tenant",
            "actions",
        )

    def render_name(self, record):
        return str(record)


class MCPServerTable(BaseTable):
    """Table of MCP servers."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    verify_tls = BooleanColumn(verbose_name="Verify TLS")
    forward_user_token = BooleanColumn(verbose_name="Forward token")
    tenant = TenantColumn()
    tags = TagColumn(url_name="plugins:aiops_nautobot:mcpserver_list")
    actions = ButtonsColumn(models.MCPServer)

    class Meta(BaseTable.Meta):
        model = models.MCPServer
        fields = (
            "pk",
            "name",
            "status",
            "protocol",
            "url",
            "command_name",
            "server_type",
            "verify_tls",
            "forward_user_token",
            "timeout_seconds",
            "last_checked",
            "tenant",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "status",
            "protocol",
            "url",
            "server_type",
            "last_checked",
            "tenant",
            "actions",
        )


class ConversationTable(BaseTable):
    """Table of conversations."""

    pk = ToggleColumn()
    thread_id = tables.Column(linkify=True)
    llm_model = tables.Column(linkify=True, verbose_name="LLM model")
    tenant = TenantColumn()
    tags = TagColumn(url_name="plugins:aiops_nautobot:conversation_list")
    actions = ButtonsColumn(models.Conversation)

    class Meta(BaseTable.Meta):
        model = models.Conversation
        fields = (
            "pk",
            "thread_id",
            "title",
            "owner",
            "llm_model",
            "last_activity",
            "created",
            "tenant",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "thread_id",
            "title",
            "owner",
            "llm_model",
            "last_activity",
            "tenant",
        )


class MCPToolTable(BaseTable):
    """Table of the MCP tool catalog."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    server = tables.Column(linkify=True)
    enabled = BooleanColumn()
    reviewed = BooleanColumn(orderable=False)
    changed_since_review = BooleanColumn(verbose_name="Changed since review", orderable=False)
    reviewed_by = tables.Column()
    tags = TagColumn(url_name="plugins:aiops_nautobot:mcptool_list")
    actions = ButtonsColumn(models.MCPTool)

    class Meta(BaseTable.Meta):
        model = models.MCPTool
        fields = (
            "pk",
            "name",
            "server",
            "enabled",
            "access",
            "reviewed",
            "changed_since_review",
            "reviewed_by",
            "reviewed_at",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "server",
            "enabled",
            "access",
            "reviewed",
            "changed_since_review",
            "actions",
        )


class UsageRecordTable(BaseTable):
    """Table of model calls (usage records)."""

    pk = ToggleColumn()
    started_at = tables.DateTimeColumn(linkify=True, format="Y-m-d H:i:s")
    llm_model = tables.Column(linkify=True, verbose_name="LLM model")
    user = tables.Column()
    cost = CostColumn(verbose_name="Cost (USD)")
    latency = tables.Column(verbose_name="Latency (s)")
    time_to_first_token = tables.Column(verbose_name="First token (s)")

    class Meta(BaseTable.Meta):
        model = models.UsageRecord
        fields = (
            "pk",
            "started_at",
            "model",
            "provider",
            "llm_model",
            "user",
            "tenant",
            "thread_id",
            "run_id",
            "outcome",
            "input_tokens",
            "output_tokens",
            "cached_tokens",
            "reasoning_tokens",
            "cost",
            "latency",
            "time_to_first_token",
            "streaming",
            "step",
            "fallback_from",
        )
        default_columns = (
            "pk",
            "started_at",
            "model",
            "user",
            "thread_id",
            "outcome",
            "input_tokens",
            "output_tokens",
            "cached_tokens",
            "cost",
            "latency",
        )

    def render_latency(self, value):
        return f"{value:.3f}"

    def render_time_to_first_token(self, value):
        return f"{value:.3f}"


class ToolUsageRecordTable(BaseTable):
    """Table of tool calls (tool usage records)."""

    pk = ToggleColumn()
    started_at = tables.DateTimeColumn(linkify=True, format="Y-m-d H:i:s")
    user = tables.Column()
    latency = tables.Column(verbose_name="Latency (s)")
    result_chars = tables.Column(verbose_name="Result size (chars)")

    class Meta(BaseTable.Meta):
        model = models.ToolUsageRecord
        fields = (
            "pk",
            "started_at",
            "tool",
            "server",
            "user",
            "thread_id",
            "run_id",
            "outcome",
            "latency",
            "result_chars",
        )
        default_columns = (
            "pk",
            "started_at",
            "tool",
            "server",
            "user",
            "outcome",
            "latency",
            "result_chars",
        )

    def render_latency(self, value):
        return f"{value:.3f}"


class MCPHealthRecordTable(BaseTable):
    """Table of MCP server health checks (the health history)."""

    pk = ToggleColumn()
    checked_at = tables.DateTimeColumn(linkify=True, format="Y-m-d H:i:s")
    server = tables.Column(linkify=True, verbose_name="MCP server")
    healthy = BooleanColumn()
    error = tables.Column()

    class Meta(BaseTable.Meta):
        model = models.MCPHealthRecord
        fields = ("pk", "checked_at", "server", "healthy", "error")
        default_columns = ("pk", "checked_at", "server", "healthy", "error")


class BudgetTable(BaseTable):
    """Table of budgets, with the spent and remaining dollars of the current period."""

    pk = ToggleColumn()
    name = tables.Column(linkify=True)
    user = tables.Column()
    tenant = tables.Column(linkify=True)
    llm_model = tables.Column(linkify=True, verbose_name="LLM model")
    fallback_model = tables.Column(linkify=True)
    enabled = BooleanColumn()
    spent = tables.Column(accessor="pk", verbose_name="Spent this period", orderable=False)
    remaining = tables.Column(accessor="pk", verbose_name="Remaining", orderable=False)
    tags = TagColumn(url_name="plugins:aiops_nautobot:budget_list")
    actions = ButtonsColumn(models.Budget)

    class Meta(BaseTable.Meta):
        model = models.Budget
        fields = (
            "pk",
            "name",
            "user",
            "tenant",
            "llm_model",
            "period",
            "limit",
            "spent",
            "remaining",
            "action",
            "fallback_model",
            "enabled",
            "tags",
            "actions",
        )
        default_columns = (
            "pk",
            "name",
            "user",
            "tenant",
            "llm_model",
            "period",
            "limit",
            "spent",
            "remaining",
            "action",
            "enabled",
            "actions",
        )

    def _status(self, record) -> tuple[Decimal, Decimal]:
        from .services.usage import budget_status

        cache = self.__dict__.setdefault("_budget_status", {})
        if record.pk not in cache:
            cache[record.pk] = budget_status(record)
        return cache[record.pk]

    def render_spent(self, record):
        return format_cost(self._status(record)[0])

    def render_remaining(self, record):
        return format_cost(self._status(record)[1])


class ChangeSetTable(BaseTable):
    """Table of change sets, each with a link to the change-log entries it produced."""

    created = tables.DateTimeColumn(linkify=True, format="Y-m-d H:i:s")
    owner = tables.Column()
    status = tables.Column()
    job_result = tables.Column(linkify=True, verbose_name="Job result")
    operations = tables.Column(orderable=False, verbose_name="Operations")
    change_log = tables.Column(
        accessor="pk", orderable=False, verbose_name="Change log", empty_values=()
    )

    class Meta(BaseTable.Meta):
        model = models.ChangeSet
        fields = (
            "created",
            "summary",
            "status",
            "owner",
            "thread_id",
            "turn_id",
            "operations",
            "job_result",
            "applied",
            "change_log",
        )
        default_columns = (
            "created",
            "summary",
            "status",
            "owner",
            "thread_id",
            "operations",
            "applied",
            "change_log",
        )

    def render_operations(self, value):
        return len(value) if isinstance(value, list) else 0

    def render_change_log(self, record):
        from django.utils.html import format_html

        if record.status == models.ChangeSetStatus.PROPOSED:
            return "—"
        return format_html('<a href="{}">Change log</a>', record.change_log_path)
