"""The command line shows a reasoning model's thinking apart from the answer, or hides it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from aiops_core.agent import FinalResult, TextDelta, ThinkingDelta
from aiops_core.agent.result import RunResult
from aiops_core.cli._session import render_stream
from aiops_core.cli._term import Term
from aiops_core.messages import Usage
from tests.servers.llm import LLMServer, Reply

from .conftest import Aiops


def _config(tmp_path: Path, url: str) -> str:
    path = tmp_path / "thinking.toml"
    path.write_text(
        f'model = "anthropic:claude-cli-test"\n[model_options]\nbase_url = "{url}"\n'
        'api_key = "sk-ant-test"\nthinking = 2048\n',
        encoding="utf-8",
    )
    return str(path)


def test_run_shows_thinking_apart_and_can_hide_it(aiops: Aiops, tmp_path: Path) -> None:
    with LLMServer() as server:
        answer = Reply(text="core-sw-01 is up.", thinking="Check the status.", reasoning_tokens=5)
        server.script(answer, answer)
        config = _config(tmp_path, server.url)
        shown = aiops("run", "is core-sw-01 up?", "--config", config)
        hidden = aiops("run", "is core-sw-01 up?", "--config", config, "--hide-thinking")
    assert server.requests[0].body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert shown.stdout == "[thinking] Check the status.\ncore-sw-01 is up.\n"
    assert "(reasoning 5)" in shown.stderr
    assert hidden.stdout == "core-sw-01 is up.\n"


async def _events():
    yield ThinkingDelta("Check ")
    yield ThinkingDelta("first.")
    yield TextDelta("Up.")
    yield FinalResult(RunResult(output="Up.", messages=[], usage=Usage(), steps=1))


@pytest.mark.anyio
async def test_thinking_is_dimmed_where_colour_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = io.StringIO()
    await render_stream(_events(), Term(out, io.StringIO()))
    assert out.getvalue() == "\x1b[2mCheck \x1b[0m\x1b[2mfirst.\x1b[0m\nUp.\n"
    monkeypatch.delenv("FORCE_COLOR")
    plain = io.StringIO()
    await render_stream(_events(), Term(plain, io.StringIO()))
    assert plain.getvalue() == "[thinking] Check first.\nUp.\n"
    hidden = io.StringIO()
    await render_stream(_events(), Term(hidden, io.StringIO()), show_thinking=False)
    assert hidden.getvalue() == "Up.\n"
