"""List-view tables of the app's models."""

from __future__ import annotations

import django_tables2 as tables
from nautobot.apps.tables import BaseTable, BooleanColumn, ButtonsColumn, TagColumn, ToggleColumn
from nautobot.tenancy.tables import TenantColumn

from . import models

__all__ = [
    "ConversationTable",
    "LLMMiddlewareTable",
    "LLMModelTable",
    "LLMProviderTable",
    "MCPServerTable",
    "MCPToolTable",
    "MiddlewareTypeTable",
    "SystemPromptTable",
]


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
