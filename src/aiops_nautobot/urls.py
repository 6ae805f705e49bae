"""UI routes under ``/plugins/ai-ops/``."""

from __future__ import annotations

from django.urls import path
from nautobot.apps.urls import NautobotUIViewSetRouter

from . import oauth_views, usage_views, views
from .chat_page import ChatPageView

router = NautobotUIViewSetRouter()
router.register("llm-providers", views.LLMProviderUIViewSet)
router.register("llm-models", views.LLMModelUIViewSet)
router.register("system-prompts", views.SystemPromptUIViewSet)
router.register("middleware-types", views.MiddlewareTypeUIViewSet)
router.register("llm-middleware", views.LLMMiddlewareUIViewSet)
router.register("mcp-servers", views.MCPServerUIViewSet)
router.register("mcp-tools", views.MCPToolUIViewSet)
router.register("conversations", views.ConversationUIViewSet)
router.register("change-sets", views.ChangeSetUIViewSet)
router.register("usage-records", views.UsageRecordUIViewSet)
router.register("tool-usage-records", views.ToolUsageRecordUIViewSet)
router.register("mcp-health-records", views.MCPHealthRecordUIViewSet)
router.register("budgets", views.BudgetUIViewSet)

urlpatterns = [
    path("chat/", ChatPageView.as_view(), name="chat"),
    path("usage/", usage_views.UsageDashboardView.as_view(), name="usage_dashboard"),
    path("usage/tools/", usage_views.ToolAnalyticsView.as_view(), name="tool_analytics"),
    *router.urls,
    path(
        "mcp-servers/<uuid:pk>/oauth/connect/",
        oauth_views.MCPServerConnectView.as_view(),
        name="mcpserver_oauth_connect",
    ),
    path(
        "mcp-servers/<uuid:pk>/oauth/disconnect/",
        oauth_views.MCPServerDisconnectView.as_view(),
        name="mcpserver_oauth_disconnect",
    ),
    path(
        "mcp-servers/oauth/callback/",
        oauth_views.MCPServerOAuthCallbackView.as_view(),
        name="mcpserver_oauth_callback",
    ),
]
