"""``aiops chat``: the REPL with pipes and on a pseudo-terminal."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from .conftest import Aiops, Terminal


def test_chat_threads_persist_in_the_default_store_and_can_be_resumed(
    aiops: Aiops, tmp_path: Path
) -> None:
    aiops("chat", "--thread", "t1", input="first question\n/exit\n")
    assert (tmp_path / "aiops" / "threads.db").exists()
    assert "first question" in aiops("threads", "show", "t1").stdout
    aiops("run", "second question", "--thread", "t1")
    assert "second question" in aiops("threads", "show", "t1").stdout


def test_piped_input_is_rendered_as_a_transcript(aiops: Aiops) -> None:
    """Issue 15: piped input printed prompts without the lines typed."""
    out = aiops("chat", input="hello\n/thread\n/new\n/help\n/exit\n").stdout
    lines = out.splitlines()
    assert lines[0] == "you> hello"
    assert lines[1] == "assistant> (test model) You said: hello"
    assert lines[2] == "you> /thread" and lines[3].startswith("chat-")
    assert "new thread chat-" in out and "/approve" in out


def test_unknown_commands_are_rejected_with_the_list(aiops: Aiops) -> None:
    out = aiops("chat", input="/nwe\n/exit\n")
    assert "error: unknown command '/nwe'; commands: /new, /thread, /pending" in out.stderr
    assert "assistant>" not in out.stdout  # not sent to the model


def test_line_editing_and_history_on_a_terminal(
    terminal: Callable[..., Terminal], tmp_path: Path
) -> None:
    term = terminal("chat", env={"NO_COLOR": "1"})
    term.expect("you> ")
    term.send("helo\x7flo there\r")  # backspace edits the line
    term.expect("You said: hello there")
    term.expect("you> ")
    term.send("\x1b[A\r")  # arrow up recalls the last line
    term.expect("You said: hello there")
    term.expect("you> ")
    term.send("\x04")  # Ctrl-D quits
    assert term.wait() == 0
    history = (tmp_path / "state" / "aiops" / "chat_history").read_text()
    assert "hello there" in history


def test_ctrl_c_cancels_the_answer_not_the_chat(
    terminal: Callable[..., Terminal], tmp_path: Path, aiops: Aiops
) -> None:
    """Issue 15: Ctrl-C quit the REPL instead of cancelling the current answer."""
    from tests.servers.llm import Hang, LLMServer, Reply

    with LLMServer() as server:
        server.script(Hang(20, Reply("too late")), Reply("second answer"))
        config = tmp_path / "aiops.toml"
        config.write_text(
            f'model = "openai:gpt-4o-mini"\n[model_options]\nbase_url = "{server.url}/v1"\n'
        )
        term = terminal(
            "chat",
            "--config",
            str(config),
            "--thread",
            "t1",
            env={"NO_COLOR": "1", "OPENAI_API_KEY": "k"},
        )
        term.expect("you> ")
        term.send("slow question\r")
        deadline = time.monotonic() + 20
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        term.interrupt()
        term.expect("[cancelled: this turn was not kept]")
        term.expect("you> ")
        term.send("fast question\r")
        term.expect("second answer")
        term.expect("you> ")
        term.send("/exit\r")
        assert term.wait() == 0
    shown = aiops("threads", "show", "t1").stdout
    assert "slow question" not in shown
    assert "user: fast question" in shown and "assistant: second answer" in shown
