"""The ``aiops`` command, end to end in subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aiops_core.cli import build_parser


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    """Keep the CLI's default SQLite store out of the developer's home."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.delenv("AIOPS_STORE", raising=False)


def aiops(
    *args: str, check: bool = True, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    out = subprocess.run(
        [sys.executable, "-m", "aiops_core.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        input=input,
    )
    if check:
        assert out.returncode == 0, out.stderr
    return out


def test_demo_runs_a_complete_offline_conversation():
    out = aiops("demo").stdout
    assert out.count("you> ") == 2
    assert "-> list_devices(" in out and "<- find_prefix [ok]" in out
    assert "I called 4 tool(s)" in out
    assert "thread 'demo': 14 messages stored in memory://" in out


def test_run_answers_one_question_with_the_test_model():
    out = aiops("run", "is anything down?", "--model", "test", "--tools", "inventory")
    assert "-> list_interfaces(" in out.stdout
    assert "(test model) I called 4 tool(s)" in out.stdout
    assert "steps 2" in out.stderr


def test_run_json_output():
    import json

    data = json.loads(aiops("run", "hello", "--json").stdout)
    assert data["output"] == "(test model) You said: hello" and data["status"] == "completed"


def test_errors_print_one_readable_line_and_debug_shows_the_traceback():
    out = aiops("run", "x", "--model", "opnai:gpt-4o", check=False)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: Unknown provider 'opnai'. Did you mean 'openai'? Known providers: "
        + out.stderr.split("Known providers: ")[1].strip()
    ]
    debug = aiops("--debug", "run", "x", "--model", "opnai:gpt-4o", check=False)
    assert "Traceback" in debug.stderr


def test_bad_config_file_names_the_key(tmp_path):
    config = tmp_path / "aiops.toml"
    config.write_text('model = "test"\nmax_step = 3\n')
    out = aiops("run", "x", "--config", str(config), check=False)
    assert out.returncode == 2 and "max_step: unknown key" in out.stderr


def test_config_file_sets_model_prompt_and_middleware(tmp_path):
    config = tmp_path / "aiops.toml"
    config.write_text(
        'model = "test:cfg"\nsystem_prompt = "be brief"\n[model_options]\nanswer = "from config"\n'
    )
    out = aiops("run", "x", "--config", str(config))
    assert out.stdout.strip() == "from config" and "test:cfg" in out.stderr


def test_chat_threads_persist_in_the_default_store_and_can_be_resumed(tmp_path):
    aiops("chat", "--thread", "t1", input="first question\n/exit\n")
    assert (tmp_path / "aiops" / "threads.db").exists()
    shown = aiops("threads", "show", "t1").stdout
    assert "first question" in shown
    aiops("run", "second question", "--thread", "t1")
    assert "second question" in aiops("threads", "show", "t1").stdout


def test_chat_keeps_history_and_starts_new_threads():
    out = aiops("chat", input="hello\n/thread\n/new\n/help\n/exit\n").stdout
    assert "(test model) You said: hello" in out
    assert "new thread chat-" in out and "/new" in out


@pytest.mark.parametrize(
    "command", [[], *[[c] for c in build_parser()._subparsers._group_actions[0].choices]]
)  # type: ignore[union-attr]
def test_help_everywhere(command):
    out = aiops(*command, "--help")
    assert "usage: aiops" in out.stdout


# --------------------------------------------------------------------------- thinking
def _thinking_config(tmp_path, url: str) -> str:
    path = tmp_path / "aiops.toml"
    path.write_text(
        f'model = "anthropic:claude-cli-test"\n[model_options]\nbase_url = "{url}"\n'
        'api_key = "sk-ant-test"\nthinking = 2048\n',
        encoding="utf-8",
    )
    return str(path)


def test_run_shows_thinking_apart_and_can_hide_it(tmp_path):
    from tests.servers.llm import LLMServer, Reply

    with LLMServer() as server:
        server.script(
            Reply(text="core-sw-01 is up.", thinking="Check the status first.", reasoning_tokens=5),
            Reply(text="core-sw-01 is up.", thinking="Check the status first."),
        )
        config = _thinking_config(tmp_path, server.url)
        shown = aiops("run", "is core-sw-01 up?", "--config", config)
        hidden = aiops("run", "is core-sw-01 up?", "--config", config, "--hide-thinking")
    assert shown.stdout == "[thinking] Check the status first.\ncore-sw-01 is up.\n"
    assert "(reasoning 5)" in shown.stderr
    assert hidden.stdout == "core-sw-01 is up.\n"


@pytest.mark.anyio
async def test_thinking_is_dimmed_on_a_terminal(monkeypatch):
    import io

    from aiops_core.agent import FinalResult, TextDelta, ThinkingDelta
    from aiops_core.agent.result import RunResult
    from aiops_core.cli._session import render_stream
    from aiops_core.messages import Usage

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    async def events():
        yield ThinkingDelta("Check ")
        yield ThinkingDelta("first.")
        yield TextDelta("Up.")
        yield FinalResult(RunResult(output="Up.", messages=[], usage=Usage(), steps=1))

    monkeypatch.delenv("NO_COLOR", raising=False)
    out = Terminal()
    await render_stream(events(), out)
    assert out.getvalue() == "\x1b[2mCheck first.\x1b[0m\nUp.\n"
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    await render_stream(events(), plain)
    assert plain.getvalue() == "[thinking] Check first.\nUp.\n"
