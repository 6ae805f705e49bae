"""The ``aiops`` command as a whole: help, errors in the user's words, exit codes, logging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from aiops_core.cli import build_parser
from tests.mcp_servers.support import free_port

from .conftest import Aiops

ROOT = Path(__file__).parents[3]


@pytest.mark.parametrize(
    "command", [[], *[[c] for c in build_parser()._subparsers._group_actions[0].choices]]
)  # type: ignore[union-attr]
def test_help_everywhere(aiops: Aiops, command: list[str]) -> None:
    out = aiops(*command, "--help")
    assert "usage: aiops" in out.stdout


def test_help_imports_no_engine() -> None:
    """``aiops --help`` stays fast: it imports no agent, model, store or pydantic model code."""
    code = (
        "import sys\n"
        "from aiops_core.cli import build_parser\n"
        "build_parser().format_help()\n"
        "heavy = [m for m in ('aiops_core.agent', 'aiops_core.messages', 'aiops_core.checkpoint',"
        " 'aiops_core.middleware', 'pydantic', 'anyio') if m in sys.modules]\n"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_errors_print_one_readable_line_and_debug_shows_the_traceback(aiops: Aiops) -> None:
    out = aiops("run", "x", "--model", "opnai:gpt-4o", check=False)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: Unknown provider 'opnai'. Did you mean 'openai'? Known providers: "
        + out.stderr.split("Known providers: ")[1].strip()
    ]
    debug = aiops("--debug", "run", "x", "--model", "opnai:gpt-4o", check=False)
    assert "Traceback" in debug.stderr


def test_a_bare_model_name_suggests_its_provider(aiops: Aiops) -> None:
    """Issue 15: ``--model gpt-4o`` should suggest ``openai:gpt-4o``."""
    out = aiops("run", "x", "--model", "gpt-4o", check=False)
    assert out.returncode == 2
    assert "Did you mean --model openai:gpt-4o?" in out.stderr
    claude = aiops("run", "x", "--model", "claude-sonnet-4-5", check=False)
    assert "--model anthropic:claude-sonnet-4-5" in claude.stderr


def test_errors_speak_the_command_line_not_python(aiops: Aiops) -> None:
    """Issue 15: no "pass api_key=...", "get_chat_model(...)" or "raise max_steps"."""
    no_key = aiops("run", "x", "--model", "openai:gpt-4o", check=False, env={"OPENAI_API_KEY": ""})
    assert no_key.returncode == 2
    assert "set OPENAI_API_KEY in the environment" in no_key.stderr
    assert "api_key=" not in no_key.stderr
    no_model = aiops("run", "x", "--model", "openai:", check=False, env={"OPENAI_API_KEY": "k"})
    assert "--model openai:<model>" in no_model.stderr
    assert "get_chat_model" not in no_model.stderr
    # The test model calls every tool on a new turn, then needs a second step to answer.
    limit = aiops("run", "x", "--tools", "inventory", "--max-steps", "1", check=False)
    assert limit.returncode == 1
    assert "--max-steps N (or max_steps in the config file)" in limit.stderr
    assert "raise max_steps" not in limit.stderr


def test_bad_config_file_names_every_problem(aiops: Aiops, tmp_path: Path) -> None:
    config = tmp_path / "aiops.toml"
    config.write_text('model = "test"\nmax_step = 3\nmax_steps = 0\n')
    out = aiops("run", "x", "--config", str(config), check=False)
    assert out.returncode == 2
    assert "max_step: unknown key" in out.stderr
    assert "max_steps:" in out.stderr


def test_max_steps_must_be_positive(aiops: Aiops) -> None:
    """Issue 15: ``--max-steps 0`` ran."""
    out = aiops("run", "x", "--max-steps", "0", check=False)
    assert out.returncode == 2
    assert "--max-steps: must be at least 1, not 0" in out.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite://aiops.db", "use three slashes for a relative path (sqlite:///aiops.db)"),
        ("redis://127.0.0.1:6379/2?bogus=1", "unknown query parameter(s) bogus"),
        ("redis://127.0.0.1:6379/2?socket_timeout=soon", "socket_timeout must be a number"),
    ],
)
def test_store_url_mistakes_are_explained(aiops: Aiops, url: str, expected: str) -> None:
    """Issue 15: these raised ArgumentError / TypeError / ValueError."""
    for command in (
        ["run", "hi", "--thread", "t1", "--store", url],
        ["threads", "list", "--store", url],
    ):
        out = aiops(*command, check=False)
        assert out.returncode == 2, out.stderr
        assert expected in out.stderr
        assert "unexpected" not in out.stderr


def test_closed_output_pipe_is_quiet(tmp_path: Path) -> None:
    """Issue 15: ``aiops providers --json | head`` printed a BrokenPipeError."""
    import fcntl

    read_end, write_end = os.pipe()
    # A small pipe (Linux F_SETPIPE_SZ): the output cannot all fit before the reader leaves.
    fcntl.fcntl(write_end, 1031, 4096)
    with subprocess.Popen(
        [sys.executable, "-m", "aiops_core.cli", "providers", "--json"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    ) as proc:
        os.close(write_end)
        with os.fdopen(read_end, "rb") as reader:
            assert reader.read(1) == b"{"
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=30) == 141
    assert err == ""


def test_connection_failures_name_the_url_and_the_setting(aiops: Aiops, tmp_path: Path) -> None:
    """Issue 15: connection errors and timeouts should name the URL, seconds and setting."""
    port = free_port()  # nobody listens there
    config = tmp_path / "aiops.toml"
    config.write_text(
        f'model = "openai:gpt-4o-mini"\n[model_options]\nbase_url = "http://127.0.0.1:{port}/v1"\n'
    )
    out = aiops("run", "x", "--config", str(config), check=False, env={"OPENAI_API_KEY": "k"})
    assert out.returncode == 1
    assert f"(URL http://127.0.0.1:{port}/v1)" in out.stderr
    assert "set base_url under [model_options]" in out.stderr


def test_timeouts_name_the_seconds_and_the_setting(aiops: Aiops, tmp_path: Path) -> None:
    from tests.servers.llm import Hang, LLMServer

    with LLMServer() as server:
        server.script(Hang(5))
        url = server.url
        config = tmp_path / "aiops.toml"
        config.write_text(
            'model = "openai:gpt-4o-mini"\n[model_options]\n'
            f'base_url = "{server.url}/v1"\ntimeout = 0.5\n'
        )
        out = aiops("run", "x", "--config", str(config), check=False, env={"OPENAI_API_KEY": "k"})
    assert out.returncode == 1
    assert f"(URL {url}/v1): no answer within 0.5 s" in out.stderr
    assert "raise timeout under [model_options]" in out.stderr


def test_store_unavailable_says_what_to_change(aiops: Aiops) -> None:
    port = free_port()
    out = aiops(
        "run", "hi", "--thread", "t1", "--store", f"redis://127.0.0.1:{port}/2", check=False
    )
    assert out.returncode == 1
    assert "choose another store with --store URL" in out.stderr


def _mcp_config(tmp_path: Path, call_tools: str) -> Path:
    """A config whose test model calls ``call_tools`` of the repository's stdio MCP server."""
    from tests.mcp_servers.support import SERVERS

    mode = tmp_path / "mode"
    mode.write_text("normal")
    config = tmp_path / "aiops.toml"
    config.write_text(
        f"""model = "test"
[model_options]
call_tools = [{json.dumps(call_tools)}]
[[mcp_servers]]
name = "lab"
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVERS / "stdio_server.py"))}, {json.dumps(str(mode))}]
"""
    )
    return config


def test_tool_exceptions_are_logged_with_their_traceback(aiops: Aiops, tmp_path: Path) -> None:
    """Issue 15: a tool's exception left no trace for the developer (the model gets one line)."""
    config = _mcp_config(tmp_path, "crash")  # the server exits in the middle of the call
    out = aiops("run", "x", "--config", str(config), "--json")
    result = json.loads(out.stdout)["tool_calls"][0]
    assert result["is_error"] and result["result"].startswith("MCPConnectionError: ")
    assert "Traceback" not in result["result"]
    warning = [line for line in out.stderr.splitlines() if "tool 'crash' raised" in line]
    assert warning == [warning[0]] and warning[0].startswith(
        "warning: tool 'crash' raised MCPConnectionError"
    )
    assert "Traceback" not in out.stderr
    verbose = aiops("-v", "run", "x", "--config", str(config), "--json")
    assert "WARNING aiops_core.tools: tool 'crash' raised MCPConnectionError" in verbose.stderr
    assert "Traceback (most recent call last)" in verbose.stderr


def test_mcp_servers_starting_show_progress(aiops: Aiops, tmp_path: Path) -> None:
    from tests.mcp_servers.stdio_server import TOOLS

    out = aiops("run", "x", "--config", str(_mcp_config(tmp_path, "echo")))
    assert f"MCP lab: {len(TOOLS)} tools" in out.stderr
    assert "-> echo(" in out.stdout and "<- echo [ok] a" in out.stdout


def test_warnings_are_printed_once(aiops: Aiops, tmp_path: Path) -> None:
    """Issue 15: a warning was both logged and printed from the result."""
    port = free_port()
    config = tmp_path / "aiops.toml"
    config.write_text(
        '[[middleware]]\ntype = "cache"\npriority = 40\n'
        f'config = {{ backend = "redis", url = "redis://127.0.0.1:{port}/0" }}\n'
    )
    out = aiops("run", "hello", "--config", str(config))
    assert out.stdout == "(test model) You said: hello\n"
    bypassed = [line for line in out.stderr.splitlines() if "'cache' bypassed" in line]
    assert len(bypassed) == 1 and bypassed[0].startswith("warning: middleware 'cache' bypassed")


def test_log_level_and_verbose_flags(aiops: Aiops) -> None:
    quiet = aiops("run", "hi", "--tools", "inventory")
    assert "INFO" not in quiet.stderr
    loud = aiops("--log-level", "debug", "run", "hi", "--tools", "inventory")
    assert "DEBUG " in loud.stderr


def test_base_dependencies_include_the_default_store() -> None:
    """Issue 15: the base install could not open its own default sqlite:/// store."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"]]
    assert "sqlmodel" in names
