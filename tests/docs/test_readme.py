"""The README: its quick start, and the named examples that moved to the documentation pages."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from aiops_core.middleware import middleware_registry

from .examples import ROOT, example

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_custom_middleware_example_refuses_write_tools() -> None:
    out = io.StringIO()
    block = example("custom-middleware")
    with middleware_registry.override(), contextlib.redirect_stdout(out):
        exec(compile(block.code, block.where, "exec"), {"__name__": "readme"})
    assert (
        "- shutdown_interface (error): Read-only mode: propose the change instead."
        in out.getvalue()
    )


def test_quick_start_commands_are_the_documented_two() -> None:
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S)
    assert block
    commands = [line for line in block.group(1).splitlines() if line and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[0].endswith("aiops demo")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


@pytest.mark.parametrize(
    "section",
    [
        "## Quick start",
        "## Configuration",
        "## The `aiops` command",
        "## Nautobot app",
        "## Extending",
        "## Performance",
    ],
)
def test_readme_keeps_the_sections_the_project_requires(section: str) -> None:
    assert section in README


def test_readme_links_into_the_docs_resolve() -> None:
    for target in re.findall(r"\]\(((?:docs/|CHANGELOG)[^)#]*)", README):
        assert (ROOT / target).is_file(), target


def test_reasoning_models_example_builds_its_agents(monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-readme")  # building an agent contacts nothing
    monkeypatch.setenv("OPENAI_API_KEY", "sk-readme")
    scope: dict[str, object] = {"__name__": "readme"}
    block = example("reasoning-models")
    exec(compile(block.code, block.where, "exec"), scope)
    assert scope["agent"].model.default_settings == {  # type: ignore[attr-defined]
        "reasoning_effort": "medium"
    }
