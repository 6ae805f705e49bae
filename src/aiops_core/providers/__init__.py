"""Chat models: the protocol, the handler registry, and the offline ``test`` and ``function`` models.

SDK-backed handlers (``openai``, ``azure_openai``, ``anthropic``, ``ollama``, ``huggingface``)
live in their own modules and are imported only when resolved.
"""

from __future__ import annotations

from .base import (
    ChatModel,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    ModelStreamEvent,
    OutputSchema,
    ResponseDone,
    StreamAccumulator,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from .function import FunctionModel
from .registry import (
    HandlerInfo,
    ProviderConfig,
    ProviderHandler,
    get_chat_model,
    get_provider,
    list_providers,
    provider_names,
    provider_registry,
    register_provider,
)
from .test import TestModel

__all__ = [
    "ChatModel",
    "FunctionModel",
    "HandlerInfo",
    "ModelRequest",
    "ModelResponse",
    "ModelSettings",
    "ModelStreamEvent",
    "OutputSchema",
    "ProviderConfig",
    "ProviderHandler",
    "ResponseDone",
    "StreamAccumulator",
    "TestModel",
    "TextDelta",
    "ThinkingDelta",
    "ToolCallDelta",
    "get_chat_model",
    "get_provider",
    "list_providers",
    "provider_names",
    "provider_registry",
    "register_provider",
]
