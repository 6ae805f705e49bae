"""aiops_core: a lean async agent engine for network and IT operations.

Public names are imported lazily, so ``import aiops_core`` costs almost nothing and never pulls in
a provider SDK, Redis or SQLAlchemy until they are used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

__version__ = "0.1.0"

# The public names, each with the module that defines it: the one list of the package surface.
# ``__all__`` derives from it; the TYPE_CHECKING imports below repeat it for type checkers, and
# tests/core/test_package.py checks that they agree.
_EXPORTS: dict[str, str] = {
    # agent
    "Agent": "aiops_core.agent",
    "PendingApproval": "aiops_core.agent",
    "RunContext": "aiops_core.context",
    "RunResult": "aiops_core.agent",
    # stream events
    "AgentEvent": "aiops_core.agent",
    "FinalResult": "aiops_core.agent",
    "PartialOutput": "aiops_core.agent",
    "RunError": "aiops_core.agent",
    "TextDelta": "aiops_core.agent",
    "ThinkingDelta": "aiops_core.agent",
    "ToolCallFinished": "aiops_core.agent",
    "ToolCallStarted": "aiops_core.agent",
    # messages
    "AssistantMessage": "aiops_core.messages",
    "DataPart": "aiops_core.messages",
    "ImagePart": "aiops_core.messages",
    "SystemMessage": "aiops_core.messages",
    "TextPart": "aiops_core.messages",
    "ToolCall": "aiops_core.messages",
    "ToolResultMessage": "aiops_core.messages",
    "Usage": "aiops_core.messages",
    "UserMessage": "aiops_core.messages",
    # tools
    "Tool": "aiops_core.tools",
    "tool": "aiops_core.tools",
    # providers
    "ChatModel": "aiops_core.providers",
    "FunctionModel": "aiops_core.providers",
    "ModelRequest": "aiops_core.providers",
    "ModelResponse": "aiops_core.providers",
    "ProviderHandler": "aiops_core.providers",
    "TestModel": "aiops_core.providers",
    "get_chat_model": "aiops_core.providers",
    "list_providers": "aiops_core.providers",
    "register_provider": "aiops_core.providers",
    # middleware
    "Middleware": "aiops_core.middleware",
    "MiddlewareConfig": "aiops_core.middleware",
    "MiddlewareSpec": "aiops_core.middleware",
    "register_middleware": "aiops_core.middleware",
    # mcp
    "MCPClientPool": "aiops_core.mcp",
    "MCPServerConfig": "aiops_core.mcp",
    # checkpoint stores
    "CheckpointStore": "aiops_core.checkpoint",
    "MemoryStore": "aiops_core.checkpoint",
    "RedisStore": "aiops_core.checkpoint",
    "SQLStore": "aiops_core.checkpoint",
    "open_store": "aiops_core.checkpoint",
    # errors
    "AiopsError": "aiops_core.errors",
    "ModelRetry": "aiops_core.errors",
    "UserError": "aiops_core.errors",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the same names for type checkers ("X as X": an explicit re-export)
    from .agent import Agent as Agent
    from .agent import AgentEvent as AgentEvent
    from .agent import FinalResult as FinalResult
    from .agent import PartialOutput as PartialOutput
    from .agent import PendingApproval as PendingApproval
    from .agent import RunError as RunError
    from .agent import RunResult as RunResult
    from .agent import TextDelta as TextDelta
    from .agent import ThinkingDelta as ThinkingDelta
    from .agent import ToolCallFinished as ToolCallFinished
    from .agent import ToolCallStarted as ToolCallStarted
    from .checkpoint import CheckpointStore as CheckpointStore
    from .checkpoint import MemoryStore as MemoryStore
    from .checkpoint import RedisStore as RedisStore
    from .checkpoint import SQLStore as SQLStore
    from .checkpoint import open_store as open_store
    from .context import RunContext as RunContext
    from .errors import AiopsError as AiopsError
    from .errors import ModelRetry as ModelRetry
    from .errors import UserError as UserError
    from .mcp import MCPClientPool as MCPClientPool
    from .mcp import MCPServerConfig as MCPServerConfig
    from .messages import AssistantMessage as AssistantMessage
    from .messages import DataPart as DataPart
    from .messages import ImagePart as ImagePart
    from .messages import SystemMessage as SystemMessage
    from .messages import TextPart as TextPart
    from .messages import ToolCall as ToolCall
    from .messages import ToolResultMessage as ToolResultMessage
    from .messages import Usage as Usage
    from .messages import UserMessage as UserMessage
    from .middleware import Middleware as Middleware
    from .middleware import MiddlewareConfig as MiddlewareConfig
    from .middleware import MiddlewareSpec as MiddlewareSpec
    from .middleware import register_middleware as register_middleware
    from .providers import ChatModel as ChatModel
    from .providers import FunctionModel as FunctionModel
    from .providers import ModelRequest as ModelRequest
    from .providers import ModelResponse as ModelResponse
    from .providers import ProviderHandler as ProviderHandler
    from .providers import TestModel as TestModel
    from .providers import get_chat_model as get_chat_model
    from .providers import list_providers as list_providers
    from .providers import register_provider as register_provider
    from .tools import Tool as Tool
    from .tools import tool as tool
