"""Rows and settings shared by the engine-binding tests (chat, services, jobs)."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from aiops_nautobot.models import LLMModel, LLMProvider, MCPServer
from aiops_nautobot.services.stores import with_store


def app_settings(**values: Any) -> override_settings:
    """``override_settings`` of the app's config: the tests' operator config plus ``values``.

    The operator config is ``AIOPS_TEST_CONFIG`` of ``nautobot_config.py``.
    """
    from django.conf import settings

    return override_settings(
        PLUGINS_CONFIG={"aiops_nautobot": {**settings.AIOPS_TEST_CONFIG, **values}}
    )


def operator_settings(**values: Any) -> override_settings:
    """``override_settings`` of the app's config: exactly ``values`` (the documented defaults
    for everything else; nothing of the tests' own operator config)."""
    return override_settings(PLUGINS_CONFIG={"aiops_nautobot": values})


memory_store = app_settings(checkpoint_url="memory://")
"""Conversations in the engine loop's in-process store (one per test process)."""


def offline_model(name: str = "assistant", *, default: bool = True, **config: Any) -> LLMModel:
    """An ``LLMModel`` on the offline ``test`` provider."""
    provider, _ = LLMProvider.objects.get_or_create(name="test")
    return LLMModel.objects.create(
        provider=provider, name=name, is_default=default, environment="LAB", config=config
    )


def time_server(status: str = "healthy", name: str = "time") -> MCPServer:
    """The real ``mcp-server-time`` over stdio (the ``time`` command of the tests' config)."""
    return MCPServer.objects.create(
        name=name,
        status=status,
        protocol="stdio",
        command_name="time",
        server_type="internal",
    )


def checkpoint_store() -> Any:
    """The engine's checkpoint store for the configured URL (the engine keeps it open)."""
    return with_store(_itself)


async def _itself(store: Any) -> Any:
    return store


def load_thread(thread_id: str) -> Any:
    """The thread as the engine's store holds it (``None`` when absent)."""
    return with_store(lambda store: store.load(thread_id))
