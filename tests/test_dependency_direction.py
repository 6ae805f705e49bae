"""``aiops_nautobot`` imports ``aiops_core``, never the reverse; ``import aiops_core`` is light.

The one home of these checks (``tests/core/test_package.py`` covers the public surface).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[1] / "src" / "aiops_core"
FORBIDDEN = (
    "django",
    "nautobot",
    "aiops_nautobot",
    "rest_framework",
    "celery",
    # we own the loop: no agent framework underneath
    "langchain",
    "langgraph",
    "litellm",
    "pydantic_ai",
)
HEAVY = (
    "openai",
    "anthropic",
    "ollama",
    "huggingface_hub",
    "redis",
    "sqlalchemy",
    "sqlmodel",
    "mcp",
    "httpx2",
    "psycopg",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    return names


# Parsed at collection, before any test starts a thread: CPython 3.11 before 3.11.9 may fail
# ``ast.parse`` with "AST constructor recursion depth mismatch" while another thread compiles.
IMPORTS = {path: imported_modules(path) for path in sorted(CORE.rglob("*.py"))}


@pytest.mark.parametrize("path", IMPORTS, ids=lambda p: str(p.relative_to(CORE)))
def test_no_core_module_imports_django_or_nautobot(path):
    bad = sorted(name for name in IMPORTS[path] if name.split(".")[0] in FORBIDDEN)
    assert not bad, f"{path.relative_to(CORE.parent)} imports {bad}"


def test_importing_the_engine_loads_neither_django_nor_heavy_sdks():
    code = (
        "import json, sys\n"
        "import aiops_core\n"
        "from aiops_core import Agent, MiddlewareSpec, tool\n"
        "import aiops_core.agent, aiops_core.checkpoint\n"
        "import aiops_core.middleware, aiops_core.providers\n"
        "Agent('test').run_sync('hi')  # a whole offline turn stays light too\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    src = str(CORE.parent)
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"},
        timeout=60,
    ).stdout
    loaded = set(json.loads(output))
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
