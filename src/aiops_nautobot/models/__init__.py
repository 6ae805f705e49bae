"""The app's models (field names are a contract shared with the engine binding)."""

from __future__ import annotations

from .change_set import ChangeSet, ChangeSetStatus
from .conversation import Conversation
from .llm import LLMModel, LLMProvider, SystemPrompt
from .mcp import MCPServer
from .mcp_tokens import MCPServerToken
from .mcp_tool import MCPTool
from .middleware import LLMMiddleware, MiddlewareType
from .usage import Budget, MCPHealthRecord, ToolUsageRecord, UsageRecord

__all__ = [
    "Budget",
    "ChangeSet",
    "ChangeSetStatus",
    "Conversation",
    "LLMMiddleware",
    "LLMModel",
    "LLMProvider",
    "MCPHealthRecord",
    "MCPServer",
    "MCPServerToken",
    "MCPTool",
    "MiddlewareType",
    "SystemPrompt",
    "ToolUsageRecord",
    "UsageRecord",
]
