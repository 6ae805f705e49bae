"""Tool calls paused by ``tool_approval``: ``run``, ``threads show|approve|reject``, terminals."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Aiops, Terminal

APPROVAL = (
    '[[middleware]]\ntype = "tool_approval"\npriority = 25\nconfig = { tools = ["get_device"] }\n'
)


@pytest.fixture
def flags(tmp_path: Path) -> list[str]:
    """The flags of the issue's example: approval config, inventory tools, a SQLite store."""
    config = tmp_path / "appr.toml"
    config.write_text(APPROVAL)
    return ["--config", str(config), "--tools", "inventory", "--store", "sqlite:///appr.db"]


def test_a_paused_run_exits_3_and_says_how_to_continue(aiops: Aiops, flags: list[str]) -> None:
    """Issue 15: the paused run printed a note, exited 0, and nothing could continue it."""
    out = aiops("run", "show ams01", *flags, "--thread", "ap1", check=False)
    assert out.returncode == 3
    assert "Paused: these tool calls need approval:" in out.stdout
    assert 'call_1_1  get_device({"name": "ams01-core-01"})' in out.stdout
    assert "Decide with: aiops threads approve ap1 call_1_1 --config" in out.stderr
    assert "--tools inventory" in out.stderr
    again = aiops("run", "next", *flags, "--thread", "ap1", check=False)
    assert again.returncode == 2
    assert "decide first with 'aiops threads approve ap1 CALL_ID'" in again.stderr
    assert "agent.resume" not in again.stderr


def test_threads_show_lists_pending_calls(aiops: Aiops, flags: list[str]) -> None:
    aiops("run", "show ams01", *flags, "--thread", "ap1", check=False)
    shown = aiops("threads", "show", "ap1", "--store", "sqlite:///appr.db").stdout
    assert "user: show ams01" in shown
    assert "call_1_1  get_device" in shown
    assert "aiops threads approve ap1 CALL_ID" in shown
    data = json.loads(
        aiops("threads", "show", "ap1", "--store", "sqlite:///appr.db", "--json").stdout
    )
    assert data["pending_approval"][0]["id"] == "call_1_1"
    assert (
        data["pending_approval"][0]["reason"] == "Tool 'get_device' changes data and needs approval"
    )
    listed = aiops("threads", "list", "--store", "sqlite:///appr.db").stdout
    assert "ap1" in listed and "[awaiting approval]" in listed


def test_threads_approve_runs_the_call_and_finishes_the_turn(
    aiops: Aiops, flags: list[str]
) -> None:
    aiops("run", "show ams01", *flags, "--thread", "ap1", check=False)
    done = aiops("threads", "approve", "ap1", "call_1_1", *flags)
    assert "<- get_device [ok]" in done.stdout
    assert "(test model) I called 4 tool(s)" in done.stdout
    assert "approved call_1_1" in done.stderr
    shown = aiops("threads", "show", "ap1", "--store", "sqlite:///appr.db").stdout
    assert "Paused" not in shown and "tool get_device:" in shown
    # The thread is usable again.
    aiops("run", "thanks", "--store", "sqlite:///appr.db", "--thread", "ap1")


def test_threads_reject_sends_the_reason_to_the_model(aiops: Aiops, flags: list[str]) -> None:
    aiops("run", "show ams01", *flags, "--thread", "ap1", check=False)
    done = aiops("threads", "reject", "ap1", "--reason", "not during the freeze", *flags)
    assert "<- get_device [error] Tool call not during the freeze." in done.stdout
    assert "- get_device (error): Tool call not during the freeze." in done.stdout


def test_decisions_must_cover_every_pending_call(aiops: Aiops, flags: list[str]) -> None:
    aiops("run", "show ams01", *flags, "--thread", "ap1", check=False)
    wrong = aiops("threads", "approve", "ap1", "call_9_9", *flags, check=False)
    assert wrong.returncode == 2 and "No pending call call_9_9" in wrong.stderr
    nothing = aiops("threads", "approve", "nope", *flags, check=False)
    assert nothing.returncode == 2 and "No thread 'nope'" in nothing.stderr
    missing_tools = aiops(
        "threads",
        "approve",
        "ap1",
        "--store",
        "sqlite:///appr.db",
        "--config",
        flags[1],
        check=False,
    )
    assert missing_tools.returncode == 2
    assert "get_device are not available" in missing_tools.stderr


def test_a_run_without_a_stored_thread_says_it_cannot_be_continued(
    aiops: Aiops, flags: list[str]
) -> None:
    out = aiops("run", "show ams01", *flags[:4], check=False)
    assert out.returncode == 3
    assert "cannot be continued later" in out.stderr


def test_json_output_lists_pending_calls(aiops: Aiops, flags: list[str]) -> None:
    out = aiops("run", "show ams01", *flags, "--thread", "ap1", "--json", check=False)
    assert out.returncode == 3
    data = json.loads(out.stdout)
    assert data["status"] == "pending_approval"
    assert [c["id"] for c in data["pending_approval"]] == ["call_1_1"]
    done = {c["name"]: c for c in data["tool_calls"]}
    assert done["list_devices"]["is_error"] is False and done["get_device"]["result"] is None


def test_run_on_a_terminal_asks_and_continues(
    terminal: Callable[..., Terminal], flags: list[str]
) -> None:
    term = terminal("run", "show ams01", *flags, "--thread", "ap1", env={"NO_COLOR": "1"})
    term.expect("approve get_device (call_1_1)? [y/N/a(ll)/r(eject rest)]")
    term.send("y\r")
    term.expect("<- get_device [ok]")
    term.expect("(test model) I called 4 tool(s)")
    assert term.wait() == 0


def test_chat_on_a_terminal_asks_and_rejects(
    terminal: Callable[..., Terminal], flags: list[str]
) -> None:
    term = terminal("chat", *flags, env={"NO_COLOR": "1"})
    term.expect("you> ")
    term.send("show ams01\r")
    term.expect("approve get_device (call_1_1)?")
    term.send("n\r")
    term.expect("rejected call_1_1")
    term.expect("- get_device (error): Tool call rejected by the operator.")
    term.expect("you> ")
    term.send("/exit\r")
    assert term.wait() == 0


def test_piped_chat_decides_with_commands(aiops: Aiops, flags: list[str]) -> None:
    out = aiops(
        "chat",
        *flags,
        "--thread",
        "c1",
        input="show ams01\nnext question\n/pending\n/approve\n/exit\n",
    )
    assert "answer with /approve [CALL_ID ...] or /reject [CALL_ID ...]" in out.stderr
    assert "tool calls await a decision: /approve or /reject first" in out.stderr
    assert out.stdout.count("call_1_1  get_device") == 2  # paused, then /pending
    assert "<- get_device [ok]" in out.stdout
    assert "(test model) I called 4 tool(s)" in out.stdout


def test_chat_on_a_paused_thread_shows_it_first_and_exits_3_if_undecided(
    aiops: Aiops, flags: list[str]
) -> None:
    aiops("run", "show ams01", *flags, "--thread", "ap1", check=False)
    out = aiops("chat", *flags, "--thread", "ap1", input="/exit\n", check=False)
    assert out.returncode == 3
    assert "call_1_1  get_device" in out.stdout
