"""REST API serializers.

Secrets are exposed only as references (id, URL, display name): a Secret's value is never read
here.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from nautobot.apps.api import NautobotModelSerializer, TaggedModelSerializerMixin
from rest_framework import serializers

from .. import models

__all__ = [
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
    """A new conversation is owned by the requesting user; owner and thread id never change."""

    class Meta:
        model = models.Conversation
        fields = "__all__"
        read_only_fields = ["owner", "thread_id", "tenant"]  # a thread keeps its tenant

    def validate(self, data):
        if self.instance is None:
            data["owner"] = self.context["request"].user
        return super().validate(data)
