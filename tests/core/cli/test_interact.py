"""TerminalPrompter: elicitation forms and sampling approvals at the terminal."""

from __future__ import annotations

import io

import pytest

from aiops_core.cli.interact import TerminalPrompter
from aiops_core.mcp import ElicitationRequest, SamplingRequest
from aiops_core.messages import UserMessage

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name"},
        "team": {"type": "string", "default": "netops"},
        "level": {"type": "integer", "minimum": 1, "maximum": 3, "default": 2},
        "pager": {"type": "boolean", "default": True},
        "site": {"type": "string", "enum": ["fra", "ams"], "enumNames": ["Frankfurt", "Amsterdam"]},
        "hero": {
            "type": "string",
            "oneOf": [{"const": "h1", "title": "Superman"}, {"const": "h2", "title": "Batman"}],
        },
        "tools": {"type": "array", "items": {"type": "string", "enum": ["ping", "trace", "mtr"]}},
    },
    "required": ["name"],
}


def prompter(*answers: str) -> tuple[TerminalPrompter, io.StringIO, list[str]]:
    queue = list(answers)
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        if not queue:
            raise EOFError
        return queue.pop(0)

    out = io.StringIO()
    return TerminalPrompter(ask, out), out, asked


def form(**extra) -> ElicitationRequest:
    return ElicitationRequest("lab", "Who is on call?", schema=SCHEMA, **extra)


def test_a_form_is_asked_field_by_field_with_typed_answers():
    terminal, out, asked = prompter("y", "Ada", "", "3", "n", "2", "Superman", "1, mtr")
    response = terminal.elicit_sync(form())
    assert response.action == "accept"
    assert response.content == {
        "name": "Ada",
        "level": 3,
        "pager": False,
        "site": "ams",
        "hero": "h1",
        "tools": ["ping", "mtr"],
    }  # team left empty: the server's default applies
    text = out.getvalue()
    assert "[lab] Who is on call?" in text
    assert "2. Amsterdam [ams]" in text
    assert any(p.strip().startswith("team") and "[netops]" in p for p in asked)


def test_wrong_answers_are_asked_again_with_the_reason():
    first = ["", "Ada", "", "many", "9", "", "", "", ""]  # name missing, then a level too high
    second = ["Ada", "", "2", "", "", "", ""]  # the whole form again after the schema check
    terminal, out, _ = prompter("y", *first, *second)
    response = terminal.elicit_sync(form())
    assert response.content == {"name": "Ada", "level": 2}
    text = out.getvalue()
    assert "an answer is required" in text
    assert "a whole number, please" in text
    assert "9 is greater than the maximum of 3; please answer again" in text


@pytest.mark.parametrize(("first", "action"), [("n", "decline"), ("c", "cancel")])
def test_decline_and_cancel(first, action):
    terminal, _, _ = prompter(first)
    assert terminal.elicit_sync(form()).action == action


def test_cancel_mid_form_and_end_of_input_cancel():
    terminal, _, _ = prompter("y", "Ada", "/cancel")
    assert terminal.elicit_sync(form()).action == "cancel"
    terminal, _, _ = prompter("y")  # then the input ends
    assert terminal.elicit_sync(form()).action == "cancel"


def test_url_mode_shows_the_url_and_asks_to_continue():
    terminal, out, _ = prompter("y")
    request = ElicitationRequest("lab", "Sign in", mode="url", url="https://vendor.example/x")
    assert terminal.elicit_sync(request).action == "accept"
    assert "open: https://vendor.example/x" in out.getvalue()


@pytest.mark.parametrize(("answer", "allowed"), [("y", True), ("", False), ("no", False)])
def test_sampling_approval(answer, allowed):
    terminal, out, _ = prompter(answer)
    request = SamplingRequest("lab", [UserMessage(content="summarize the syslog")], 200)
    assert terminal.approve_sampling_sync(request) is allowed
    assert "[lab] asks the model to answer (up to 200 tokens)" in out.getvalue()
    assert "| user: summarize the syslog" in out.getvalue()


@pytest.mark.anyio
async def test_the_async_forms_run_in_a_thread():
    terminal, _, _ = prompter("y", "Ada", "", "", "", "", "", "")
    assert (await terminal.elicit(form())).content == {"name": "Ada"}
    terminal, _, _ = prompter("y")
    assert await terminal.approve_sampling(SamplingRequest("lab", [], 10)) is True


def test_aiops_run_asks_a_servers_question_on_the_terminal(tmp_path):
    """``aiops run``: the model calls a tool, the server elicits, the person answers at the prompt."""
    import json
    import os
    import subprocess
    import sys

    from tests.mcp_servers.support import SERVERS

    config = tmp_path / "aiops.toml"
    config.write_text(
        f"""
model = "test"
[[mcp_servers]]
name = "feat"
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVERS / "features_stdio.py"))}]
allow_tools = ["ask"]
"""
    )
    done = subprocess.run(
        [sys.executable, "-m", "aiops_core.cli", "run", "who is on call?", "--config", str(config)],
        input="y\nAda\n\n\n3\n",  # accept, name, team (default), pager (default), level
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "AIOPS_TOKEN_FILE": str(tmp_path / "tokens.json")},
    )
    assert done.returncode == 0, done.stderr
    assert "Answer now? [y]es / [n]o / [c]ancel" in done.stdout
    answer = (
        '{"action": "accept", "data": {"name": "Ada", "team": "netops", "pager": true, "level": 3}}'
    )
    assert answer in done.stdout.replace("\\", "")
