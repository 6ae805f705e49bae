"""The README's runnable examples run (the custom provider one lives in the providers suite)."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

from aiops_core.middleware import middleware_registry

README = (pathlib.Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def snippet(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```python\n(.*?)```", README, re.S)
    assert match, f"README lost its {marker} example"
    return match.group(1)


def test_custom_middleware_example_refuses_write_tools() -> None:
    out = io.StringIO()
    with middleware_registry.override(), contextlib.redirect_stdout(out):
        exec(compile(snippet("custom-middleware"), "README.md", "exec"), {"__name__": "readme"})
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
    ci = (pathlib.Path(__file__).parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


def test_reasoning_models_example_builds_its_agents(monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-readme")  # building an agent contacts nothing
    monkeypatch.setenv("OPENAI_API_KEY", "sk-readme")
    scope: dict[str, object] = {"__name__": "readme"}
    exec(compile(snippet("reasoning-models"), "README.md", "exec"), scope)
    assert scope["agent"].model.default_settings == {  # type: ignore[attr-defined]
        "reasoning_effort": "medium"
    }
