"""The package's surface: curated __all__ and registries listed without imports.

Import weight and dependency direction are checked in ``tests/test_dependency_direction.py``.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import aiops_core


def test_public_names_are_sorted_and_importable():
    assert aiops_core.__all__ == sorted(aiops_core.__all__)
    for name in [
        "Agent",
        "RunResult",
        "tool",
        "get_chat_model",
        "register_provider",
        "Middleware",
        "MiddlewareSpec",
        "MCPServerConfig",
        "MCPClientPool",
        "MemoryStore",
        "SQLStore",
        "RedisStore",
        "open_store",
    ]:
        assert name in aiops_core.__all__
    for name in aiops_core.__all__:
        if name in {"MCPClientPool", "MCPServerConfig", "SQLStore", "RedisStore"}:
            continue  # need optional extras; covered by their own suites
        assert getattr(aiops_core, name) is not None
    with pytest.raises(AttributeError):
        aiops_core.nope  # noqa: B018


@pytest.mark.parametrize(
    "package",
    ["aiops_core.agent", "aiops_core.providers", "aiops_core.middleware", "aiops_core.checkpoint"],
)
def test_subpackage_all_is_sorted(package):
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__)


def test_registry_names_list_without_importing_handlers_or_types():
    code = (
        "import sys\n"
        "from aiops_core.providers.registry import provider_names\n"
        "from aiops_core.middleware.registry import middleware_type_names\n"
        "print(provider_names()[:2], len(middleware_type_names()),"
        " 'aiops_core.providers.openai' in sys.modules, 'aiops_core.middleware.cache' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['anthropic', 'azure_openai'] 13 False False"
