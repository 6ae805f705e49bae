"""UI viewsets: list, detail, add, edit, delete, bulk edit and change log for every model."""

from __future__ import annotations

from nautobot.apps.ui import (
    KeyValueTablePanel,
    ObjectDetailContent,
    ObjectFieldsPanel,
    ObjectsTablePanel,
    ObjectTextPanel,
    SectionChoices,
)
from nautobot.apps.views import NautobotUIViewSet, ObjectDetailViewMixin, ObjectListViewMixin
from rest_framework.permissions import IsAuthenticated

from . import filters, forms, models, tables, usage_forms
from .api import serializers
from .api.usage import BudgetSerializer
from .api.views import owned_by

__all__ = [
    "BudgetUIViewSet",
    "ChangeSetUIViewSet",
    "ConversationUIViewSet",
    "LLMMiddlewareUIViewSet",
    "LLMModelUIViewSet",
    "LLMProviderUIViewSet",
    "MCPHealthRecordUIViewSet",
    "MCPServerUIViewSet",
    "MCPToolUIViewSet",
    "MiddlewareTypeUIViewSet",
    "SystemPromptUIViewSet",
    "ToolUsageRecordUIViewSet",
    "UsageRecordUIViewSet",
]


def _fields_panel(*exclude: str) -> ObjectFieldsPanel:
    return ObjectFieldsPanel(
        weight=100, section=SectionChoices.LEFT_HALF, fields="__all__", exclude_fields=list(exclude)
    )


def _json_panel(field: str, label: str, weight: int = 100) -> ObjectTextPanel:
    return ObjectTextPanel(
        weight=weight,
        section=SectionChoices.RIGHT_HALF,
        label=label,
        object_field=field,
        render_as=ObjectTextPanel.RenderOptions.JSON,
    )


class LLMProviderUIViewSet(NautobotUIViewSet):
    queryset = models.LLMProvider.objects.all()
    filterset_class = filters.LLMProviderFilterSet
    filterset_form_class = forms.LLMProviderFilterForm
    serializer_class = serializers.LLMProviderSerializer
    table_class = tables.LLMProviderTable
    form_class = forms.LLMProviderForm
    bulk_update_form_class = forms.LLMProviderBulkEditForm
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel("config"),
            _json_panel("config", "Config"),
            ObjectsTablePanel(
                weight=200,
                section=SectionChoices.FULL_WIDTH,
                table_class=tables.LLMModelTable,
                table_filter="provider",
                exclude_columns=["provider"],
            ),
        )
    )


class SystemPromptUIViewSet(NautobotUIViewSet):
    queryset = models.SystemPrompt.objects.all()
    filterset_class = filters.SystemPromptFilterSet
    filterset_form_class = forms.SystemPromptFilterForm
    serializer_class = serializers.SystemPromptSerializer
    table_class = tables.SystemPromptTable
    form_class = forms.SystemPromptForm
    bulk_update_form_class = forms.SystemPromptBulkEditForm
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel("text"),
            ObjectTextPanel(
                weight=100,
                section=SectionChoices.FULL_WIDTH,
                label="Text",
                object_field="text",
                render_as=ObjectTextPanel.RenderOptions.CODE,
            ),
        )
    )


class LLMModelUIViewSet(NautobotUIViewSet):
    queryset = models.LLMModel.objects.select_related("provider", "api_key_secret", "system_prompt")
    filterset_class = filters.LLMModelFilterSet
    filterset_form_class = forms.LLMModelFilterForm
    serializer_class = serializers.LLMModelSerializer
    table_class = tables.LLMModelTable
    form_class = forms.LLMModelForm
    bulk_update_form_class = forms.LLMModelBulkEditForm
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel("config"),
            _json_panel("config", "Config (overrides the provider's)"),
            ObjectsTablePanel(
                weight=200,
                section=SectionChoices.FULL_WIDTH,
                table_class=tables.LLMMiddlewareTable,
                table_filter="llm_model",
                table_title="Middleware",
                exclude_columns=["llm_model"],
            ),
        )
    )


class MiddlewareTypeUIViewSet(NautobotUIViewSet):
    queryset = models.MiddlewareType.objects.all()
    filterset_class = filters.MiddlewareTypeFilterSet
    filterset_form_class = forms.MiddlewareTypeFilterForm
    serializer_class = serializers.MiddlewareTypeSerializer
    table_class = tables.MiddlewareTypeTable
    form_class = forms.MiddlewareTypeForm
    bulk_update_form_class = forms.MiddlewareTypeBulkEditForm
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel("default_config"),
            _json_panel("default_config", "Default config"),
            _json_panel("config_schema", "Config schema", weight=200),
        )
    )


class LLMMiddlewareUIViewSet(NautobotUIViewSet):
    queryset = models.LLMMiddleware.objects.select_related("llm_model", "middleware_type")
    filterset_class = filters.LLMMiddlewareFilterSet
    filterset_form_class = forms.LLMMiddlewareFilterForm
    serializer_class = serializers.LLMMiddlewareSerializer
    table_class = tables.LLMMiddlewareTable
    form_class = forms.LLMMiddlewareForm
    bulk_update_form_class = forms.LLMMiddlewareBulkEditForm
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel("config"),
            _json_panel("config", "Config"),
            _json_panel("type_config_schema", "Config schema of the type", weight=200),
        )
    )


class MCPServerUIViewSet(NautobotUIViewSet):
    queryset = models.MCPServer.objects.select_related("headers_secret")
    filterset_class = filters.MCPServerFilterSet
    filterset_form_class = forms.MCPServerFilterForm
    serializer_class = serializers.MCPServerSerializer
    table_class = tables.MCPServerTable
    form_class = forms.MCPServerForm
    bulk_update_form_class = forms.MCPServerBulkEditForm
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel(),
            ObjectsTablePanel(
                weight=200,
                section=SectionChoices.FULL_WIDTH,
                table_class=tables.MCPHealthRecordTable,
                table_filter="server",
                table_title="Health history",
                exclude_columns=["pk", "server"],
                max_display_count=20,
            ),
        )
    )


class MCPToolUIViewSet(NautobotUIViewSet):
    """The MCP tool catalog; saving the form with "Mark reviewed" records the user's review."""

    queryset = models.MCPTool.objects.select_related("server", "reviewed_by")
    filterset_class = filters.MCPToolFilterSet
    filterset_form_class = forms.MCPToolFilterForm
    serializer_class = serializers.MCPToolSerializer
    table_class = tables.MCPToolTable
    form_class = forms.MCPToolForm
    bulk_update_form_class = forms.MCPToolBulkEditForm
    object_detail_content = ObjectDetailContent(panels=(_fields_panel(),))

    def form_save(self, form, **kwargs):
        row = super().form_save(form, **kwargs)
        if form.cleaned_data.get("mark_reviewed"):
            row.mark_reviewed(self.request.user)
        return row


class ConversationUIViewSet(NautobotUIViewSet):
    """Conversations: each user sees only their own; superusers see all."""

    queryset = models.Conversation.objects.select_related("owner", "llm_model", "tenant")
    filterset_class = filters.ConversationFilterSet
    filterset_form_class = forms.ConversationFilterForm
    serializer_class = serializers.ConversationSerializer
    table_class = tables.ConversationTable
    form_class = forms.ConversationForm
    bulk_update_form_class = forms.ConversationBulkEditForm
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel(),
            ObjectsTablePanel(
                weight=200,
                section=SectionChoices.FULL_WIDTH,
                context_table_key="change_set_table",
                table_title="Change sets",
                exclude_columns=["owner", "thread_id"],
                enable_related_link=False,  # the list filter is the thread id, not this row's id
                add_button_route=None,
            ),
        )
    )

    def get_queryset(self):
        return owned_by(super().get_queryset(), self.request.user)

    def get_extra_context(self, request, instance=None):
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            # Whoever may see the conversation sees the change sets of its turns.
            rows = models.ChangeSet.objects.filter(
                thread_id=instance.thread_id, owner=instance.owner_id
            ).select_related("owner", "job_result")
            context["change_set_table"] = tables.ChangeSetTable(rows, user=request.user)
        return context

    def form_save(self, form, **kwargs):
        if form.instance._state.adding:
            form.instance.owner = self.request.user
        return super().form_save(form, **kwargs)


class UsageRecordUIViewSet(ObjectListViewMixin, ObjectDetailViewMixin):
    """Model calls, read-only (the recorder writes them). Object permissions restrict the rows:
    ``{"user": "$user"}`` on *view usage record* shows a user their own calls only."""

    queryset = models.UsageRecord.objects.select_related("user", "tenant", "llm_model")
    filterset_class = filters.UsageRecordFilterSet
    filterset_form_class = usage_forms.UsageRecordFilterForm
    table_class = tables.UsageRecordTable
    action_buttons = ("export",)
    object_detail_content = ObjectDetailContent(
        panels=(
            ObjectFieldsPanel(
                weight=100,
                section=SectionChoices.LEFT_HALF,
                fields="__all__",
                value_transforms={"cost": [tables.format_cost]},  # empty: "unknown", not 0
            ),
        )
    )


class ToolUsageRecordUIViewSet(ObjectListViewMixin, ObjectDetailViewMixin):
    """Tool calls, read-only (the recorder writes them); restricted like usage records."""

    queryset = models.ToolUsageRecord.objects.select_related("user")
    filterset_class = filters.ToolUsageRecordFilterSet
    filterset_form_class = usage_forms.ToolUsageRecordFilterForm
    table_class = tables.ToolUsageRecordTable
    action_buttons = ("export",)
    object_detail_content = ObjectDetailContent(panels=(_fields_panel(),))


class MCPHealthRecordUIViewSet(ObjectListViewMixin, ObjectDetailViewMixin):
    """The health history of MCP servers, read-only (written by the health checks)."""

    queryset = models.MCPHealthRecord.objects.select_related("server")
    filterset_class = filters.MCPHealthRecordFilterSet
    filterset_form_class = usage_forms.MCPHealthRecordFilterForm
    table_class = tables.MCPHealthRecordTable
    action_buttons = ("export",)
    object_detail_content = ObjectDetailContent(panels=(_fields_panel(),))


class ChangeSetUIViewSet(ObjectListViewMixin, ObjectDetailViewMixin):
    """Change sets, read-only (the chat writes them). Everybody sees their own; a ``view``
    object permission on change sets shows others' too. The detail page lists the change-log
    entries the change set produced (those the user may view), each linking to its detail."""

    queryset = models.ChangeSet.objects.select_related("owner", "job_result")
    filterset_class = filters.ChangeSetFilterSet
    filterset_form_class = usage_forms.ChangeSetFilterForm
    serializer_class = serializers.ChangeSetSerializer
    table_class = tables.ChangeSetTable
    action_buttons = ("export",)
    permission_classes = [IsAuthenticated]  # the rows are restricted, not the pages
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel("operations", "diff"),
            _json_panel("operations", "Operations"),
            _json_panel("diff", "Diff", weight=200),
            ObjectsTablePanel(
                weight=300,
                section=SectionChoices.FULL_WIDTH,
                context_table_key="change_log_table",
                table_title="Change log",
                related_field_name="request_id",  # "see all" opens Nautobot's change log
                add_button_route=None,
            ),
        )
    )

    def get_required_permission(self):
        return []  # no model permission: get_queryset shows the user's own rows

    def get_queryset(self):
        return self.queryset.all().visible_to(self.request.user)

    def get_extra_context(self, request, instance=None):
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            from nautobot.extras.tables import ObjectChangeTable

            context["change_log_table"] = ObjectChangeTable(
                instance.change_log(request.user), user=request.user
            )
        return context


class BudgetUIViewSet(NautobotUIViewSet):
    """Budgets, with what is spent and left in the current period."""

    queryset = models.Budget.objects.select_related(
        "user", "tenant", "llm_model__provider", "fallback_model"
    )
    filterset_class = filters.BudgetFilterSet
    filterset_form_class = usage_forms.BudgetFilterForm
    serializer_class = BudgetSerializer
    table_class = tables.BudgetTable
    form_class = usage_forms.BudgetForm
    bulk_update_form_class = usage_forms.BudgetBulkEditForm
    object_detail_content = ObjectDetailContent(
        panels=(
            _fields_panel(),
            KeyValueTablePanel(
                weight=100,
                section=SectionChoices.RIGHT_HALF,
                label="Current period",
                context_data_key="budget_period",
            ),
        )
    )

    def get_extra_context(self, request, instance=None):
        context = super().get_extra_context(request, instance)
        if self.action == "retrieve" and instance is not None:
            from django.utils import timezone

            from aiops_core.usage import period_bounds

            from .services.usage import budget_status

            spent, remaining = budget_status(instance)
            start, end = period_bounds(instance.period, timezone.now())
            context["budget_period"] = {
                "Period (UTC)": f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}",
                "Limit": tables.format_cost(instance.limit),
                "Spent": tables.format_cost(spent),
                "Remaining": tables.format_cost(remaining),
            }
        return context
