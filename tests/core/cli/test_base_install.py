"""The CLI on the base install: the default store works; a missing extra says which one.

The optional packages are made unimportable in the child process (as on ``pip install aiops``
without extras); ``tests/docs/test_quick_start.py`` checks a real fresh virtualenv too.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
# Import names of distributions whose import name differs (or that bring a second package).
IMPORT_NAMES = {
    "huggingface-hub": ("huggingface_hub",),
    "sqlmodel": ("sqlmodel", "sqlalchemy"),
    "psycopg": ("psycopg", "psycopg_binary"),
}


def _names(requirements: list[str]) -> set[str]:
    out = set()
    for requirement in requirements:
        name = re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].strip().lower()
        if name != "aiops":
            out.update(IMPORT_NAMES.get(name, (name.replace("-", "_"),)))
    return out


def _extras_only() -> tuple[str, ...]:
    """Packages an extra installs that the base install does not (from pyproject.toml)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = [r for name, reqs in extras.items() if name != "dev" for r in reqs]
    return tuple(sorted(_names(wanted) - _names(project["dependencies"])))


EXTRAS_ONLY = _extras_only()

BLOCKER = f"""
import sys
from importlib.abc import MetaPathFinder

class NotInstalled(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {EXTRAS_ONLY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
import importlib.util
_find_spec = importlib.util.find_spec
def find_spec(name, package=None):
    if name.partition(".")[0] in {EXTRAS_ONLY!r}:
        return None
    return _find_spec(name, package)
importlib.util.find_spec = find_spec
from aiops_core.cli import main
sys.exit(main(sys.argv[1:]))
"""


def base(*args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=60,
    )


def test_the_blocked_packages_are_the_extras() -> None:
    assert {"openai", "redis", "psycopg", "nautobot"} <= set(EXTRAS_ONLY)
    assert "sqlalchemy" not in EXTRAS_ONLY and "mcp" not in EXTRAS_ONLY


def test_the_default_store_works_without_extras(tmp_path: Path) -> None:
    """Issue 15: after ``pip install .``, ``aiops chat``, ``threads list`` and ``run --thread``
    failed with "No module named 'sqlalchemy'"."""
    run = base("run", "hi", "--thread", "t1")
    assert run.returncode == 0, run.stderr
    listed = base("threads", "list")
    assert listed.returncode == 0, listed.stderr
    assert "t1" in listed.stdout
    chat = base("chat", input="hello\n/exit\n")
    assert chat.returncode == 0, chat.stderr
    assert (tmp_path / "aiops" / "threads.db").exists()
    demo = base("demo")
    assert demo.returncode == 0, demo.stderr


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["run", "hi", "--model", "openai:gpt-4o-mini"], "openai"),
        (["run", "hi", "--model", "anthropic:claude-sonnet-4-5"], "anthropic"),
        (["threads", "list", "--store", "redis://127.0.0.1:6379/2"], "redis"),
        (["threads", "list", "--store", "postgresql://u@127.0.0.1:5432/db"], "postgres"),
    ],
)
def test_a_missing_extra_is_named(args: list[str], extra: str) -> None:
    out = base(*args)
    assert out.returncode == 2, out.stderr
    assert f"pip install 'aiops[{extra}]'" in out.stderr
    assert "ModuleNotFoundError" not in out.stderr and "unexpected" not in out.stderr
