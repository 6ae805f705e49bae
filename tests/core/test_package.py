"""The package's surface: lazy imports, curated __all__, one-way dependency."""

from __future__ import annotations

import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

import aiops_core

SRC = pathlib.Path(aiops_core.__file__).parent
HEAVY = [
    "openai",
    "anthropic",
    "ollama",
    "huggingface_hub",
    "redis",
    "sqlalchemy",
    "sqlmodel",
    "mcp",
    "django",
    "nautobot",
    "httpx2",
    "psycopg",
]


def test_import_aiops_core_pulls_in_no_sdk_redis_sqlalchemy_or_mcp():
    code = (
        "import sys, aiops_core\n"
        "from aiops_core import Agent, MemoryStore, tool, MiddlewareSpec, get_chat_model\n"
        "Agent('test').run_sync('hi')\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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


def test_aiops_core_never_imports_django_or_nautobot():
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in {
                    "django",
                    "nautobot",
                    "aiops_nautobot",
                    "langchain",
                    "langgraph",
                    "litellm",
                    "pydantic_ai",
                }:
                    offenders.append(f"{path.relative_to(SRC)}: {name}")
    assert offenders == []


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
