"""UI routes under ``/plugins/ai-ops/``."""

from __future__ import annotations

from nautobot.apps.urls import NautobotUIViewSetRouter

from . import views

router = NautobotUIViewSetRouter()
router.register("llm-providers", views.LLMProviderUIViewSet)
router.register("llm-models", views.LLMModelUIViewSet)
router.register("system-prompts", views.SystemPromptUIViewSet)
router.register("middleware-types", views.MiddlewareTypeUIViewSet)
router.register("llm-middleware", views.LLMMiddlewareUIViewSet)
router.register("mcp-servers", views.MCPServerUIViewSet)
router.register("conversations", views.ConversationUIViewSet)

urlpatterns = [*router.urls]
