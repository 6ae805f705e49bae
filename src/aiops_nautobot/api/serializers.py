"""REST API serializers.

Secrets are exposed only as references (id, URL, display name): a Secret's value is never read
here.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from nautobot.apps.api import (
    BaseModelSerializer,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
)
from rest_framework import serializers

from .. import models

__all__ = [
    "ChangeSetSerializer",
    "ConversationSerializer",
    "LLMMiddlewareSerializer",
    "LLMModelSerializer",
    "LLMProviderSerializer",
    "MCPServerSerializer",
    "MCPToolSerializer",
    "MiddlewareTypeSerializer",
    "SystemPromptSerializer",
]


class LLMProviderSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    class Meta:
        model = models.LLMProvider
        fields = "__all__"


class SystemPromptSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    class Meta:
        model = models.SystemPrompt
        fields = "__all__"
        read_only_fields = ["version"]


class LLMModelSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    class Meta:
        model = models.LLMModel
        fields = "__all__"


class MiddlewareTypeSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    config_schema = serializers.SerializerMethodField(
        help_text="JSON schema of the type's config (null if the engine does not know the type)"
    )

    class Meta:
        model = models.MiddlewareType
        fields = "__all__"

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_config_schema(self, obj):
        return obj.config_schema


class LLMMiddlewareSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    class Meta:
        model = models.LLMMiddleware
        fields = "__all__"


class MCPServerSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """``last_checked`` and ``last_error`` are the health check's; ``status`` may be set to
    ``unhealthy`` or ``vulnerable`` only (model validation)."""

    class Meta:
        model = models.MCPServer
        fields = "__all__"
        read_only_fields = ["last_checked", "last_error"]


class MCPToolSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """Tools are found by discovery; ``enabled`` and ``access`` are the administrator's. The
    definition and the review are read-only here: ``POST mcp-tools/{id}/mark-reviewed/``
    records a review."""

    reviewed = serializers.BooleanField(read_only=True)
    changed_since_review = serializers.BooleanField(read_only=True)

    class Meta:
        model = models.MCPTool
        fields = "__all__"
        read_only_fields = [
            "description",
            "fingerprint",
            "reviewed_by",
            "reviewed_at",
            "reviewed_fingerprint",
        ]


class ConversationSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """A new conversation is owned by the requesting user; owner and thread id never change.

    ``change_sets`` lists the writes its turns proposed, with their status and a link to the
    change-log entries each produced."""

    change_sets = serializers.SerializerMethodField(
        help_text="Change sets of this conversation: id, url, status, summary, change_log_url"
    )

    class Meta:
        model = models.Conversation
        fields = "__all__"
        read_only_fields = ["owner", "thread_id", "tenant"]  # a thread keeps its tenant

    def validate(self, data):
        if self.instance is None:
            data["owner"] = self.context["request"].user
        return super().validate(data)

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    name: {"type": "string"}
                    for name in ("id", "url", "status", "summary", "created", "change_log_url")
                },
            },
        }
    )
    def get_change_sets(self, obj):
        # Whoever may see the conversation sees the change sets of its turns.
        change_log = reverse("extras-api:objectchange-list")
        return [
            {
                "id": str(row.pk),
                "url": _absolute(self, row.get_absolute_url(api=True)),
                "status": row.status,
                "summary": row.summary,
                "created": row.created.isoformat(),
                "change_log_url": _absolute(self, f"{change_log}?request_id={row.pk}"),
            }
            for row in self._change_sets(obj).get((obj.thread_id, obj.owner_id), [])
        ]

    def _change_sets(self, obj):
        """The change sets of the conversations this answer shows (a list page: one query)."""
        cache = self.root.__dict__.setdefault("_aiops_change_sets", {"threads": set(), "rows": {}})
        if obj.thread_id not in cache["threads"]:
            shown = self.root.instance
            page = list(shown) if isinstance(shown, (list, tuple, QuerySet)) else []
            threads = {getattr(row, "thread_id", None) for row in page} | {obj.thread_id}
            threads -= cache["threads"] | {None}
            rows = models.ChangeSet.objects.filter(thread_id__in=threads).only(
                "pk", "owner_id", "thread_id", "status", "summary", "created"
            )
            for row in rows:
                cache["rows"].setdefault((row.thread_id, row.owner_id), []).append(row)
            cache["threads"] |= threads
        return cache["rows"]


class ChangeSetSerializer(BaseModelSerializer):
    """A change set, read-only (the chat writes it). ``change_log_url`` lists the change-log
    entries its writes produced (their request id is the change set's id)."""

    change_log_url = serializers.SerializerMethodField(
        help_text="Nautobot's change-log API filtered to the entries this change set produced"
    )

    class Meta:
        model = models.ChangeSet
        fields = "__all__"
        read_only_fields = [
            "owner",
            "thread_id",
            "turn_id",
            "summary",
            "operations",
            "diff",
            "status",
            "job_result",
            "applied",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_change_log_url(self, obj):
        return _absolute(self, f"{reverse('extras-api:objectchange-list')}?request_id={obj.pk}")


def _absolute(serializer, url: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(url) if request is not None else url
