"""The package's surface: curated __all__ and registries listed without imports.

Import weight and dependency direction are checked in ``tests/test_dependency_direction.py``.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import aiops_core

SRC = Path(__file__).resolve().parents[2] / "src"
PUBLIC_MODULES = sorted(
    f"aiops_core.{info.name}"
    for info in pkgutil.iter_modules(aiops_core.__path__)
    if not info.name.startswith("_")
)
"""``aiops_core`` and its public subpackages and modules: the surface other code may import."""


def isort_style(names: list[str]) -> list[str]:
    """The order ruff keeps ``__all__`` in (RUF022): CONSTANTS, then Classes, then the rest."""

    def key(name: str) -> tuple[int, str]:
        if name.isupper():
            return 0, name
        return (1 if name[:1].isupper() else 2), name

    return sorted(names, key=key)


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


@pytest.mark.parametrize("name", ["aiops_core", *PUBLIC_MODULES])
def test_every_public_all_is_sorted_and_importable(name):
    module = importlib.import_module(name)
    assert module.__all__ == isort_style(module.__all__)
    for public in module.__all__:
        assert getattr(module, public) is not None, f"{name}.{public}"
    assert set(module.__all__) <= set(dir(module))


def test_the_type_checking_imports_repeat_the_export_list():
    """``aiops_core.__init__`` names each export once at run time (``_EXPORTS``) and once for
    type checkers; both must agree, name for name and module for module."""
    tree = ast.parse((SRC / "aiops_core" / "__init__.py").read_text())
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    ]
    imported = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1
        for alias in node.names:
            assert alias.asname == alias.name, "re-export explicitly: 'import X as X'"
            imported[alias.name] = f"aiops_core.{node.module}"
    assert imported == aiops_core._EXPORTS
    for name, module in aiops_core._EXPORTS.items():
        assert getattr(importlib.import_module(module), name) is getattr(aiops_core, name)


def test_the_nautobot_app_uses_only_the_public_surface():
    """The app imports ``aiops_core`` names from public packages and modules only, and only
    names they list in ``__all__`` (never an implementation module such as
    ``aiops_core.providers.registry``)."""
    used = []
    for path in sorted((SRC / "aiops_nautobot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("aiops_core"):
                used += [(path.name, node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                used += [
                    (path.name, alias.name, None)
                    for alias in node.names
                    if alias.name.startswith("aiops_core")
                ]
    assert used, "the app imports aiops_core"
    for where, module, name in used:
        assert module in {"aiops_core", *PUBLIC_MODULES}, f"{where} imports {module}"
        if name is not None and f"{module}.{name}" not in PUBLIC_MODULES:
            exported = importlib.import_module(module).__all__
            assert name in exported, f"{where}: {module}.{name} is not in its __all__"


def test_registry_names_list_without_importing_handlers_or_types():
    code = (
        "import sys\n"
        "from aiops_core.providers import provider_names\n"
        "from aiops_core.middleware import middleware_type_names\n"
        "print(provider_names()[:2], len(middleware_type_names()),"
        " 'aiops_core.providers.openai' in sys.modules, 'aiops_core.middleware.cache' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['anthropic', 'azure_openai'] 13 False False"
