"""aiops_core: a lean async agent engine for network and IT operations.

Public names are imported lazily, so ``import aiops_core`` costs almost nothing and never pulls in
a provider SDK, Redis or SQLAlchemy until they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # agent
    "Agent": "aiops_core.agent",
    "RunResult": "aiops_core.agent",
    "PendingApproval": "aiops_core.agent",
    "RunContext": "aiops_core.context",
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
    "UserError": "aiops_core.errors",
}

__all__ = [
    "Agent",
    "AiopsError",
    "AssistantMessage",
    "ChatModel",
    "CheckpointStore",
    "DataPart",
    "FunctionModel",
    "ImagePart",
    "MCPClientPool",
    "MCPServerConfig",
    "MemoryStore",
    "Middleware",
    "MiddlewareSpec",
    "ModelRequest",
    "ModelResponse",
    "PendingApproval",
    "ProviderHandler",
    "RedisStore",
    "RunContext",
    "RunResult",
    "SQLStore",
    "SystemMessage",
    "TestModel",
    "TextPart",
    "Tool",
    "ToolCall",
    "ToolResultMessage",
    "Usage",
    "UserError",
    "UserMessage",
    "get_chat_model",
    "list_providers",
    "open_store",
    "register_middleware",
    "register_provider",
    "tool",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aiops_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


if TYPE_CHECKING:
    from .agent import Agent, PendingApproval, RunResult
    from .checkpoint import CheckpointStore, MemoryStore, RedisStore, SQLStore, open_store
    from .context import RunContext
    from .errors import AiopsError, UserError
    from .mcp import MCPClientPool, MCPServerConfig
    from .messages import (
        AssistantMessage,
        DataPart,
        ImagePart,
        SystemMessage,
        TextPart,
        ToolCall,
        ToolResultMessage,
        Usage,
        UserMessage,
    )
    from .middleware import Middleware, MiddlewareSpec, register_middleware
    from .providers import (
        ChatModel,
        FunctionModel,
        ModelRequest,
        ModelResponse,
        ProviderHandler,
        TestModel,
        get_chat_model,
        list_providers,
        register_provider,
    )
    from .tools import Tool, tool
