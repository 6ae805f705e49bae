"""docs/user/mcp.md: its Python examples run and print what the page says; its TOML is valid
configuration; its ``aiops mcp`` commands exist."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re
import shlex

import pytest

from aiops_core.cli import build_parser
from aiops_core.cli.config import load_config

PAGE = (pathlib.Path(__file__).parents[2] / "docs" / "user" / "mcp.md").read_text(encoding="utf-8")


def block(marker: str, language: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```{language}\n(.*?)```", PAGE, re.S)
    assert match, f"docs/user/mcp.md lost its {marker} example"
    return match.group(1)


def printed_after(marker: str) -> str:
    match = re.search(
        rf"<!-- {marker} -->\n```python\n.*?```\n\nprints\n\n```\n(.*?)```", PAGE, re.S
    )
    assert match, f"docs/user/mcp.md: the {marker} example lost its output"
    return match.group(1)


def run(marker: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block(marker, "python"), f"mcp.md:{marker}", "exec"), {"__name__": "doc"})
    return out.getvalue()


@pytest.mark.parametrize(
    "marker", ["mcp-elicitation", "mcp-pause", "mcp-sampling", "mcp-resources"]
)
def test_examples_print_what_the_page_shows(marker: str) -> None:
    assert run(marker) == printed_after(marker)


def test_the_oauth_python_example_builds_a_pool() -> None:
    assert "MCPClientPool(servers=['netbox'], state='new')" in run("mcp-oauth-python")


@pytest.mark.parametrize("marker", ["mcp-config", "mcp-oauth-grants"])
def test_toml_examples_are_valid_configuration(marker: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "aiops.toml"
    path.write_text(block(marker, "toml"), encoding="utf-8")
    configs = load_config(path).mcp_server_configs()
    assert configs
    if marker == "mcp-config":
        (netbox,) = configs
        assert (netbox.sampling.enabled, netbox.sampling.approve, netbox.roots) == (
            True,
            True,
            ["/srv/configs"],
        )
    else:
        grants = {c.name: c.oauth.grant for c in configs if c.oauth}
        assert grants == {
            "tickets": "authorization_code",
            "docs": "authorization_code",
            "monitoring": "client_credentials",
            "cmdb": "client_credentials",
            "wiki": "jwt_bearer",
        }


def test_the_aiops_mcp_commands_on_the_page_exist() -> None:
    parser = build_parser()
    commands = re.findall(r"^(aiops mcp [^#\n]*?)\s*(?:#.*)?$", PAGE, re.M)
    assert len(commands) >= 8
    for line in commands:
        words = [w for w in shlex.split(line)[1:] if not (w.startswith("[") and w.endswith("]"))]
        parser.parse_args(words)  # exits (SystemExit) on an unknown command or option
