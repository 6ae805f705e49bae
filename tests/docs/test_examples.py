"""Every code example of the README and the documentation pages runs as written.

Per page, in order, in a directory of its own:

- ``python`` blocks run as scripts. Provider SDKs find the repository's local wire-format server
  through their usual environment variables (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``,
  ``OLLAMA_HOST``), so ``Agent("openai:gpt-4o-mini")`` works offline; the MCP example's
  ``INVENTORY_MCP_URL`` / ``INVENTORY_MCP_TOKEN`` point at the repository's HTTP MCP server.
- ``toml`` blocks parse; a command-line config file also validates (model options, middleware,
  MCP servers). ``<!-- file: NAME -->`` writes it to ``NAME`` for the page's commands.
- ``bash`` blocks run line by line; a line ending in ``# exit N`` must exit with ``N``.

A block that cannot run here (Nautobot host commands, installs from PyPI) carries
``<!-- not-run: why -->``; the quick start's install runs in ``test_quick_start.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiops_core.cli.config import AppConfig, load_config
from tests.mcp_servers.support import HttpServer
from tests.servers.llm import LLMServer, Reply

from .examples import PAGES, ROOT, Block, blocks

RUNNABLE = ("python", "toml", "bash")
TOKEN = "docs-example-token"


def test_every_block_is_run_or_says_why_not() -> None:
    for page in PAGES:
        for block in blocks(page):
            if block.lang in RUNNABLE and not block.runs:
                assert block.note.removeprefix("not-run").strip(" :"), f"{block.where}: say why"
            if block.lang in ("py", "sh", "shell", "console", "yaml", "json"):
                pytest.fail(f"{block.where}: use python, bash, toml or text blocks")


@pytest.fixture(scope="module")
def llm() -> Iterator[LLMServer]:
    with LLMServer(default=[Reply("ok")]) as server:
        yield server


@pytest.fixture(scope="module")
def mcp_http() -> Iterator[HttpServer]:
    server = HttpServer(token=TOKEN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _env(tmp_path: Path, llm: LLMServer, mcp_http: HttpServer) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OPENAI", "ANTHROPIC"))},
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),  # the examples may import nothing from tests; the src is installed
        "OPENAI_API_KEY": "sk-docs-example",
        "OPENAI_BASE_URL": f"{llm.url}/v1",
        "ANTHROPIC_API_KEY": "sk-ant-docs-example",
        "ANTHROPIC_BASE_URL": llm.url,
        "OLLAMA_HOST": llm.url,
        "INVENTORY_MCP_URL": mcp_http.url,
        "INVENTORY_MCP_TOKEN": TOKEN,
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "NO_COLOR": "1",
    }


def _python(block: Block, cwd: Path, env: dict[str, str], llm: LLMServer) -> None:
    code = block.code.replace("http://127.0.0.1:8000", llm.url)  # the vLLM example's server
    script = cwd / f"example_{block.line}.py"
    script.write_text(code, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, f"{block.where} failed:\n{out.stdout}\n{out.stderr}"


def _toml(block: Block, cwd: Path) -> None:
    data = tomllib.loads(block.code)
    if block.file:
        (cwd / block.file).write_text(block.code, encoding="utf-8")
    if set(data) <= set(AppConfig.model_fields):
        path = cwd / (block.file or f"config_{block.line}.toml")
        path.write_text(block.code, encoding="utf-8")
        config = load_config(path)
        config.middleware_specs()
        config.mcp_server_configs()


def _bash(block: Block, cwd: Path, env: dict[str, str]) -> None:
    for line in block.code.splitlines():
        command = line.strip()
        if not command or command.startswith("#"):
            continue
        expected = re.search(r"#\s*exit (\d+)\s*$", command)
        out = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        want = int(expected.group(1)) if expected else 0
        assert out.returncode == want, (
            f"{block.where}: {command!r} exited {out.returncode}:\n{out.stderr}"
        )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run(
    page: Path, tmp_path: Path, llm: LLMServer, mcp_http: HttpServer
) -> None:
    env = _env(tmp_path, llm, mcp_http)
    cwd = tmp_path / "work"
    cwd.mkdir()
    for block in blocks(page):
        if not block.runs:
            continue
        if block.lang == "python":
            _python(block, cwd, env, llm)
        elif block.lang == "toml":
            _toml(block, cwd)
        elif block.lang == "bash":
            _bash(block, cwd, env)
