"""``aiops mcp list`` and ``aiops mcp check`` against a real stdio server and a dead HTTP one."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from aiops_core.cli import main
from tests.mcp_servers.support import SERVERS, free_port


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    mode = tmp_path / "mode"
    mode.write_text("normal")
    path = tmp_path / "aiops.toml"
    path.write_text(
        f"""
[[mcp_servers]]
name = "lab"
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVERS / "stdio_server.py"))}, {json.dumps(str(mode))}]

[[mcp_servers]]
name = "gone"
transport = "http"
url = "http://127.0.0.1:{free_port()}"
"""
    )
    return path


def test_list_shows_state_and_tools_of_each_server(config_file, capsys):
    assert main(["mcp", "list", "--config", str(config_file)]) == 1  # one server is down
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "SERVER",
        "TRANSPORT",
        "STATE",
        "TOOLS",
        "RESOURCES",
        "PROMPTS",
        "LAST",
        "ERROR",
    ]
    assert lines[1].split()[:6] == ["lab", "stdio", "healthy", "5", "0", "0"]
    assert lines[2].split()[:6] == ["gone", "http", "unhealthy", "0", "0", "0"]
    assert "lab: crash, echo, garble, pid, sleep" in out


def test_list_json(config_file, capsys):
    main(["mcp", "list", "--config", str(config_file), "--json"])
    servers = {s["name"]: s for s in json.loads(capsys.readouterr().out)}
    assert servers["lab"]["state"] == "healthy" and "echo" in servers["lab"]["tools"]
    assert servers["gone"]["last_error"]


def test_check_summarises_health(config_file, capsys):
    assert main(["mcp", "check", "--config", str(config_file), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert (summary["checked"], summary["failed"]) == (2, 1)
    assert {r["name"]: r["status"] for r in summary["results"]} == {
        "lab": "healthy",
        "gone": "unhealthy",
    }


def test_a_config_without_servers_is_a_readable_error(tmp_path, capsys):
    empty = tmp_path / "empty.toml"
    empty.write_text('model = "test"\n')
    assert main(["mcp", "check", "--config", str(empty)]) == 2
    assert "has no [[mcp_servers]] entries" in capsys.readouterr().err
