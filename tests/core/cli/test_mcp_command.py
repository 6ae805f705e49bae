"""``aiops mcp list`` and ``aiops mcp check`` against a real stdio server and a dead HTTP one."""

from __future__ import annotations

import json
import os
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
    assert lines[1].split()[:6] == ["lab", "stdio", "healthy", "7", "0", "0"]
    assert lines[2].split()[:6] == ["gone", "http", "unhealthy", "0", "0", "0"]
    assert "lab: crash, echo, flood, flood_error, garble, pid, sleep" in out


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


@pytest.fixture
def features_config(tmp_path: Path) -> Path:
    path = tmp_path / "features.toml"
    path.write_text(
        f"""
[[mcp_servers]]
name = "feat"
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVERS / "features_stdio.py"))}]
"""
    )
    return path


def test_resources_read_prompts_and_prompt(features_config, capsys):
    config = ["--config", str(features_config)]
    assert main(["mcp", "resources", *config]) == 0
    out = capsys.readouterr().out
    assert "config://core-sw-01" in out and "device://{device}/status" in out

    assert main(["mcp", "read", "feat", "config://core-sw-01", *config]) == 0
    assert capsys.readouterr().out.startswith("hostname core-sw-01")

    assert main(["mcp", "prompts", *config, "--json"]) == 0
    (prompt,) = json.loads(capsys.readouterr().out)
    assert prompt["name"] == "troubleshoot"
    assert [a["name"] for a in prompt["arguments"]] == ["device", "symptom"]

    assert (
        main(["mcp", "prompt", "feat", "troubleshoot", "device=r1", "symptom=flaps", *config]) == 0
    )
    assert "You troubleshoot r1; the symptom is flaps." in capsys.readouterr().out

    assert main(["mcp", "list", *config, "--json"]) == 0
    (server,) = json.loads(capsys.readouterr().out)
    assert server["resources"] == ["config://core-sw-01", "config://logo"]
    assert server["prompts"] == ["troubleshoot"]


def test_bad_prompt_arguments_and_unknown_servers_say_what_to_fix(features_config, capsys):
    config = ["--config", str(features_config)]
    assert main(["mcp", "prompt", "feat", "troubleshoot", "device", *config]) == 2
    assert "ARG=VALUE" in capsys.readouterr().err
    assert main(["mcp", "read", "nope", "x://y", *config]) == 2
    assert "No MCP server 'nope'" in capsys.readouterr().err
    assert main(["mcp", "login", "feat", *config]) == 2
    assert "has no [mcp_servers.oauth] settings" in capsys.readouterr().err


@pytest.mark.slow
def test_login_list_logout_with_a_real_oauth_server(tmp_path: Path, monkeypatch, capsys):
    """``aiops mcp login`` prints a URL, serves the callback on 127.0.0.1 and keeps the tokens."""
    import subprocess
    import time

    import anyio

    from tests.mcp_servers.support import OAuthServer, browser

    server = OAuthServer()
    server.start()
    try:
        port = free_port()
        config = tmp_path / "oauth.toml"
        config.write_text(
            f"""
[[mcp_servers]]
name = "secure"
transport = "http"
url = "{server.url}"
health_check = ""
[mcp_servers.oauth]
redirect_uri = "http://127.0.0.1:{port}/callback"
"""
        )
        tokens = tmp_path / "tokens.json"
        env = {**os.environ, "AIOPS_TOKEN_FILE": str(tokens)}
        login = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aiops_core.cli",
                "mcp",
                "login",
                "secure",
                "--config",
                str(config),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        url = ""
        deadline = time.monotonic() + 30
        while not url and time.monotonic() < deadline:
            line = login.stderr.readline()
            if line.strip().startswith("http://"):
                url = line.strip()
        assert url.startswith(f"{server.url}/authorize?"), url
        anyio.run(browser, "secure", url)
        out, err = login.communicate(timeout=30)
        assert login.returncode == 0, err
        assert f"signed in to 'secure' (2 tools); tokens kept in {tokens}" in out
        assert json.loads(tokens.read_text())["secure"]["tokens"]["access_token"]

        monkeypatch.setenv("AIOPS_TOKEN_FILE", str(tokens))
        assert main(["mcp", "list", "--config", str(config), "--json"]) == 0
        (status,) = json.loads(capsys.readouterr().out)
        assert (status["state"], status["auth_required"]) == ("healthy", False)
        assert sorted(status["tools"]) == ["echo", "whoami"]

        assert main(["mcp", "logout", "secure", "--config", str(config)]) == 0
        assert "forgot the tokens of 'secure'" in capsys.readouterr().out
        assert main(["mcp", "list", "--config", str(config), "--json"]) == 1
        (status,) = json.loads(capsys.readouterr().out)
        assert status["auth_required"]
        assert "authorization required for server 'secure'" in status["last_error"]
        assert "aiops mcp login secure" in status["last_error"]
        assert server.stats()["authorizations"] == 1
    finally:
        server.stop()
