"""The app's models (field names are a contract shared with the engine binding)."""

from __future__ import annotations

from .conversation import Conversation
from .llm import LLMModel, LLMProvider, SystemPrompt
from .mcp import MCPServer
from .mcp_tokens import MCPServerToken
from .middleware import LLMMiddleware, MiddlewareType

__all__ = [
    "Conversation",
    "LLMMiddleware",
    "LLMModel",
    "LLMProvider",
    "MCPServer",
    "MCPServerToken",
    "MiddlewareType",
    "SystemPrompt",
]
