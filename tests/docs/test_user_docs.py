"""The runnable examples of docs/user/ run and print what the page says they print."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

DOCS = pathlib.Path(__file__).parents[2] / "docs" / "user"


def test_approvals_example_prints_what_the_page_shows() -> None:
    page = (DOCS / "approvals-and-limits.md").read_text(encoding="utf-8")
    match = re.search(
        r"<!-- approvals-example -->\n```python\n(.*?)```\n\nIt prints:\n\n```text\n(.*?)```",
        page,
        re.S,
    )
    assert match, "approvals-and-limits.md lost its example"
    code, expected = match.groups()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "approvals-and-limits.md", "exec"), {"__name__": "docs"})
    assert out.getvalue() == expected


def test_reasoning_examples_run(monkeypatch) -> None:
    page = (DOCS / "reasoning.md").read_text(encoding="utf-8")
    settings = re.search(r"<!-- reasoning-settings -->\n```python\n(.*?)```", page, re.S)
    stream = re.search(
        r"<!-- reasoning-stream -->\n```python\n(.*?)```\n\nIt prints:\n\n```text\n(.*?)```",
        page,
        re.S,
    )
    assert settings and stream, "reasoning.md lost an example"
    for variable in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.setenv(variable, "sk-docs-test")  # building models contacts nothing
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(settings.group(1), "reasoning.md", "exec"), {"__name__": "docs"})
    assert out.getvalue() == "{'type': 'enabled', 'budget_tokens': 4096}\n"
    code, expected = stream.groups()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "reasoning.md", "exec"), {"__name__": "docs"})
    assert out.getvalue() == expected
