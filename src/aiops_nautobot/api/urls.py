"""REST API routes under ``/api/plugins/ai-ops/``.

The models' viewsets on :data:`router` (their detail actions, such as ``health-check/`` and
``messages/``, are ``@action``s of the viewsets), plus the ``chat/``, ``chat/approve/`` and ``chat/cancel/`` views.
"""

from __future__ import annotations

from django.urls import path
from nautobot.apps.api import OrderedDefaultRouter

from . import views
from .chat import ChatApprovalView, ChatView
from .chat_cancel import ChatCancelView
from .usage import BudgetViewSet, ToolUsageSummaryView, UsageSummaryView

router = OrderedDefaultRouter(view_name="AI Ops")
router.register("llm-providers", views.LLMProviderViewSet)
router.register("llm-models", views.LLMModelViewSet)
router.register("system-prompts", views.SystemPromptViewSet)
router.register("middleware-types", views.MiddlewareTypeViewSet)
router.register("llm-middleware", views.LLMMiddlewareViewSet)
router.register("mcp-servers", views.MCPServerViewSet)
router.register("mcp-tools", views.MCPToolViewSet)
router.register("conversations", views.ConversationViewSet)
router.register("change-sets", views.ChangeSetViewSet)
router.register("budgets", BudgetViewSet)

urlpatterns = [
    path("chat/", ChatView.as_view(), name="chat"),
    path("chat/approve/", ChatApprovalView.as_view(), name="chat-approve"),
    path("chat/cancel/", ChatCancelView.as_view(), name="chat-cancel"),
    path("usage/", UsageSummaryView.as_view(), name="usage"),
    path("usage/tools/", ToolUsageSummaryView.as_view(), name="usage-tools"),
    *router.urls,
]
