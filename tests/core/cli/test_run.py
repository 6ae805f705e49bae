"""``aiops run``: one question, streamed or as JSON, from an argument or standard input."""

from __future__ import annotations

import json
from collections.abc import Callable

from .conftest import Aiops, Terminal


def test_run_answers_one_question_with_the_test_model(aiops: Aiops) -> None:
    out = aiops("run", "is anything down?", "--model", "test", "--tools", "inventory")
    assert "-> list_interfaces(" in out.stdout
    assert "(test model) I called 4 tool(s)" in out.stdout
    assert "steps 2" in out.stderr


def test_run_json_includes_tool_results(aiops: Aiops) -> None:
    """Issue 15: ``run --json`` should include what the tools returned."""
    data = json.loads(aiops("run", "hello", "--json").stdout)
    assert data["output"] == "(test model) You said: hello" and data["status"] == "completed"
    data = json.loads(aiops("run", "where is 10.11.0.2?", "--tools", "inventory", "--json").stdout)
    calls = {c["name"]: c for c in data["tool_calls"]}
    assert calls["find_prefix"]["arguments"] == {"address": "10.11.0.2"}
    assert json.loads(calls["find_prefix"]["result"])["prefix"] == "10.11.0.0/16"
    assert calls["find_prefix"]["is_error"] is False


def test_run_dash_reads_the_question_from_stdin(aiops: Aiops) -> None:
    """Issue 15: ``aiops run -`` did not read standard input."""
    out = aiops("run", "-", input="which devices are down?\n")
    assert out.stdout == "(test model) You said: which devices are down?\n"
    empty = aiops("run", "-", input="  \n", check=False)
    assert empty.returncode == 2 and "The question is empty" in empty.stderr


def test_a_thread_persists_in_the_default_store(aiops: Aiops) -> None:
    """Issue 15: the base install's default sqlite:/// store is what ``--thread`` uses."""
    aiops("run", "first question", "--thread", "t1")
    aiops("run", "second question", "--thread", "t1")
    shown = aiops("threads", "show", "t1").stdout
    assert "user: first question" in shown and "user: second question" in shown


def test_piped_output_has_no_escape_codes_and_a_terminal_gets_colour(
    aiops: Aiops, terminal: Callable[..., Terminal]
) -> None:
    piped = aiops("run", "x", "--tools", "inventory", env={"FORCE_COLOR": ""})
    assert "\x1b[" not in piped.stdout + piped.stderr
    coloured = terminal("run", "x", "--tools", "inventory")
    coloured.expect("\x1b[36m  -> list_devices(")
    assert coloured.wait() == 0
    plain = terminal("run", "x", "--tools", "inventory", env={"NO_COLOR": "1"})
    plain.expect("I called 4 tool(s)")
    assert plain.wait() == 0
    assert "\x1b[3" not in plain.output  # no colour codes (a spinner is not shown either)
