"""REST API viewsets."""

from __future__ import annotations

from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated

from .. import filters, models
from ..permissions import ChangeOnPostPermissions
from . import serializers
from .base import ModelViewSet, ReadOnlyModelViewSet

__all__ = [
    "ChangeSetViewSet",
    "ConversationViewSet",
    "LLMMiddlewareViewSet",
    "LLMModelViewSet",
    "LLMProviderViewSet",
    "MCPServerViewSet",
    "MCPToolViewSet",
    "MiddlewareTypeViewSet",
    "SystemPromptViewSet",
]


class LLMProviderViewSet(ModelViewSet):
    queryset = models.LLMProvider.objects.all()
    serializer_class = serializers.LLMProviderSerializer
    filterset_class = filters.LLMProviderFilterSet


class SystemPromptViewSet(ModelViewSet):
    queryset = models.SystemPrompt.objects.all()
    serializer_class = serializers.SystemPromptSerializer
    filterset_class = filters.SystemPromptFilterSet


class LLMModelViewSet(ModelViewSet):
    queryset = models.LLMModel.objects.select_related("provider", "api_key_secret", "system_prompt")
    serializer_class = serializers.LLMModelSerializer
    filterset_class = filters.LLMModelFilterSet


class MiddlewareTypeViewSet(ModelViewSet):
    queryset = models.MiddlewareType.objects.all()
    serializer_class = serializers.MiddlewareTypeSerializer
    filterset_class = filters.MiddlewareTypeFilterSet


class LLMMiddlewareViewSet(ModelViewSet):
    queryset = models.LLMMiddleware.objects.select_related("llm_model", "middleware_type")
    serializer_class = serializers.LLMMiddlewareSerializer
    filterset_class = filters.LLMMiddlewareFilterSet


class MCPServerViewSet(ModelViewSet):
    """MCP servers. Detail actions (``health-check``) are added with ``@action`` here."""

    queryset = models.MCPServer.objects.select_related("headers_secret")
    serializer_class = serializers.MCPServerSerializer
    filterset_class = filters.MCPServerFilterSet

    @action(
        detail=True,
        methods=["post"],
        url_path="health-check",
        permission_classes=[ChangeOnPostPermissions],
    )
    def health_check(self, request, pk=None):
        """Probe this server now and store its status (needs the change permission and a token
        that may write)."""
        from .health_check import run_health_check

        return run_health_check(request, models.MCPServer.objects.all(), pk)


class MCPToolViewSet(ModelViewSet):
    """The MCP tool catalog. ``POST mcp-tools/{id}/mark-reviewed/`` records the requesting
    user's review of the tool's current definition (needs the change permission)."""

    queryset = models.MCPTool.objects.select_related("server", "reviewed_by")
    serializer_class = serializers.MCPToolSerializer
    filterset_class = filters.MCPToolFilterSet

    @action(
        detail=True,
        methods=["post"],
        url_path="mark-reviewed",
        permission_classes=[ChangeOnPostPermissions],
    )
    def mark_reviewed(self, request, pk=None):
        """Record a review of the tool's current definition."""
        from rest_framework.generics import get_object_or_404
        from rest_framework.response import Response

        row = get_object_or_404(models.MCPTool.objects.restrict(request.user, "change"), pk=pk)
        row.mark_reviewed(request.user)
        context = {"request": request}
        return Response(serializers.MCPToolSerializer(row, context=context).data)


class ConversationViewSet(ModelViewSet):
    """Conversations: each user sees only their own; superusers see all."""

    queryset = models.Conversation.objects.select_related("owner", "llm_model", "tenant")
    serializer_class = serializers.ConversationSerializer
    filterset_class = filters.ConversationFilterSet

    def get_queryset(self):
        return owned_by(super().get_queryset(), self.request.user)

    @action(detail=True, methods=["get"], url_path="messages")
    def messages(self, request, pk=None):
        """The conversation's messages from the checkpoint store."""
        from .conversation_messages import conversation_messages

        return conversation_messages(request, self.get_queryset(), pk)


class ChangeSetViewSet(ReadOnlyModelViewSet):
    """Change sets, read-only. Everybody sees their own; a ``view`` object permission on change
    sets shows others' too (within its constraints). Anybody else's is 404."""

    queryset = models.ChangeSet.objects.select_related("owner", "job_result")
    serializer_class = serializers.ChangeSetSerializer
    filterset_class = filters.ChangeSetFilterSet
    permission_classes = [IsAuthenticated]  # the rows are restricted below, not the endpoint

    def restrict_queryset(self, request, *args, **kwargs):
        self.queryset = self.queryset.visible_to(request.user)


def owned_by(queryset, user):
    """Restrict a conversation queryset to ``user``'s rows (superusers: all rows)."""
    if user.is_superuser:
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(owner=user)
