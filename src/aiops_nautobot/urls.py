"""UI routes under ``/plugins/ai-ops/``."""

from __future__ import annotations

from django.urls import path
from nautobot.apps.urls import NautobotUIViewSetRouter

from . import views
from .chat_page import ChatPageView

router = NautobotUIViewSetRouter()
router.register("llm-providers", views.LLMProviderUIViewSet)
router.register("llm-models", views.LLMModelUIViewSet)
router.register("system-prompts", views.SystemPromptUIViewSet)
router.register("middleware-types", views.MiddlewareTypeUIViewSet)
router.register("llm-middleware", views.LLMMiddlewareUIViewSet)
router.register("mcp-servers", views.MCPServerUIViewSet)
router.register("conversations", views.ConversationUIViewSet)

urlpatterns = [path("chat/", ChatPageView.as_view(), name="chat"), *router.urls]
