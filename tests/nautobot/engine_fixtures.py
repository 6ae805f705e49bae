"""Rows and settings shared by the engine-binding tests (chat, services, jobs)."""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack
from typing import Any

from django.test import override_settings

from aiops_nautobot.models import LLMModel, LLMProvider, MCPServer
from aiops_nautobot.services.agent_factory import open_checkpoint_store, store_ttl
from aiops_nautobot.services.engine_loop import get_engine_loop
from aiops_nautobot.settings import get_settings

TIME_SERVER_ARGS = ["-m", "mcp_server_time", "--local-timezone", "UTC"]

memory_store = override_settings(PLUGINS_CONFIG={"aiops_nautobot": {"checkpoint_url": "memory://"}})
"""Conversations in the engine loop's in-process store (one per test process)."""


def offline_model(name: str = "assistant", *, default: bool = True, **config: Any) -> LLMModel:
    """An ``LLMModel`` on the offline ``test`` provider."""
    provider, _ = LLMProvider.objects.get_or_create(name="test")
    return LLMModel.objects.create(
        provider=provider, name=name, is_default=default, environment="LAB", config=config
    )


def time_server(status: str = "healthy", name: str = "time") -> MCPServer:
    """The real ``mcp-server-time`` over stdio."""
    return MCPServer.objects.create(
        name=name,
        status=status,
        protocol="stdio",
        command=sys.executable,
        args=TIME_SERVER_ARGS,
        server_type="internal",
    )


def checkpoint_store() -> Any:
    """The engine's checkpoint store for the configured URL (the engine keeps it open)."""
    engine = get_engine_loop()
    url = get_settings().checkpoint_url

    async def lease() -> Any:
        async with AsyncExitStack() as stack:
            return await open_checkpoint_store(engine, url, store_ttl(), stack)

    return engine.run(lease(), timeout=30)


def load_thread(thread_id: str) -> Any:
    """The thread as the engine's store holds it (``None`` when absent)."""
    return get_engine_loop().run(checkpoint_store().load(thread_id), timeout=30)
