"""``aiops threads`` against a real SQLite store."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from aiops_core import Agent
from aiops_core.checkpoint import SQLStore
from aiops_core.checkpoint.url import default_store_url
from aiops_core.cli import main
from aiops_core.cli.threads import parse_duration
from aiops_core.messages import (
    AssistantMessage,
    SystemMessage,
    ToolCall,
    ToolResultMessage,
    UserMessage,
)
from aiops_core.providers import FunctionModel, ModelRequest
from aiops_core.summary import DEFAULT_PROMPT


def _seed(url: str) -> None:
    async def seed() -> None:
        async with SQLStore(url) as store:
            await store.append(
                "ticket-1",
                [
                    UserMessage(content="Is core-sw-01 up?"),
                    AssistantMessage(
                        content="", tool_calls=[ToolCall(id="c1", name="status", arguments={})]
                    ),
                    ToolResultMessage(tool_call_id="c1", name="status", content="up"),
                    AssistantMessage(content="It is up."),
                ],
                owner="alice",
                title="core-sw-01",
                model="test:test",
            )
            await store.append("ticket-2", [UserMessage(content="hi")], owner="bob")

    anyio.run(seed)


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    _seed(url)
    return url


def test_list_shows_threads_newest_first(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["threads", "list", "--store", url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["THREAD", "OWNER", "MESSAGES", "UPDATED", "(UTC)", "TITLE"]
    assert [line.split()[0] for line in lines[1:]] == ["ticket-2", "ticket-1"]
    assert lines[2].split()[1:3] == ["alice", "4"]
    assert lines[2].endswith("core-sw-01")


def test_list_by_owner_as_json_with_paging(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["threads", "list", "--store", url, "--owner", "alice", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["thread_id"], r["owner"], r["message_count"]) for r in rows] == [
        ("ticket-1", "alice", 4)
    ]
    assert main(["threads", "list", "--store", url, "--limit", "1"]) == 0
    captured = capsys.readouterr()
    cursor = captured.err.split("--cursor ")[1].strip()
    assert main(["threads", "list", "--store", url, "--limit", "1", "--cursor", cursor]) == 0
    assert "ticket-1" in capsys.readouterr().out


def test_show_prints_the_conversation(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["threads", "show", "ticket-1", "--store", url]) == 0
    out = capsys.readouterr().out
    assert "thread ticket-1  owner alice  model test:test" in out
    assert "user: Is core-sw-01 up?" in out
    assert "  -> status({})" in out
    assert "tool status: up" in out
    assert out.rstrip().endswith("assistant: It is up.")
    assert main(["threads", "show", "ticket-1", "--store", url, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["title"] == "core-sw-01"
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "tool", "assistant"]


def test_show_prints_every_message_of_a_summarised_thread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A context summary (``context_policy="summarize"``) never replaces stored history."""
    url = f"sqlite:///{tmp_path / 'summarised.db'}"

    def reply(request: ModelRequest) -> str:
        first = request.messages[0]
        if isinstance(first, SystemMessage) and first.content == DEFAULT_PROMPT:
            return "the gist"
        return "answer " + "y" * 400

    async def talk() -> None:
        async with SQLStore(url) as store:
            agent = Agent(
                FunctionModel(reply),
                store=store,
                context_window=1_000,
                max_output=50,
                context_policy="summarize",
            )
            for n in range(8):
                await agent.run(f"question {n} " + "x" * 400, thread_id="long")
            tail = await store.load("long", since_summary=True)
            assert tail is not None and tail.first > 0  # summarised: later turns load less

    anyio.run(talk)
    assert main(["threads", "show", "long", "--store", url, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert len(body["messages"]) == 16
    assert body["messages"][0]["content"].startswith("question 0")


def test_show_refuses_another_owner_and_unknown_threads(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["threads", "show", "ticket-1", "--store", url, "--owner", "bob"]) == 2
    assert "belongs to another user" in capsys.readouterr().err
    assert main(["threads", "show", "nope", "--store", url]) == 2
    assert "No thread 'nope'" in capsys.readouterr().err


def test_delete_and_prune(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["threads", "delete", "ticket-2", "--store", url]) == 0
    assert "deleted thread 'ticket-2'" in capsys.readouterr().out
    assert main(["threads", "delete", "ticket-2", "--store", url]) == 1
    assert main(["threads", "prune", "--older-than", "1h", "--store", url]) == 0
    assert "no thread idle for more than 1:00:00" in capsys.readouterr().out
    time.sleep(1.1)
    assert main(["threads", "prune", "--older-than", "1s", "--store", url, "--yes"]) == 0
    assert "pruned 1 thread " in capsys.readouterr().out
    assert main(["threads", "list", "--store", url]) == 0
    assert capsys.readouterr().out.strip() == "no threads"


def test_prune_never_deletes_everything_unasked(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15: `prune --older-than 0s` deleted every thread, with no confirmation or dry run."""
    with pytest.raises(SystemExit):
        main(["threads", "prune", "--older-than", "0s", "--store", url])
    assert "would match every thread" in capsys.readouterr().err
    time.sleep(1.1)
    assert main(["threads", "prune", "--older-than", "1s", "--store", url, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "ticket-1" in out and "ticket-2" in out
    assert "would prune 2 threads idle for more than 0:00:01" in out
    # Not on a terminal (pytest's stdin): a deletion needs --yes.
    assert main(["threads", "prune", "--older-than", "1s", "--store", url]) == 2
    assert "2 thread(s) are idle for more than 0:00:01: add --yes" in capsys.readouterr().err
    assert main(["threads", "list", "--store", url]) == 0
    assert "ticket-1" in capsys.readouterr().out


def test_store_from_config_then_environment_then_default(
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "aiops.toml"
    config.write_text(f'store = "{url}"\n', encoding="utf-8")
    assert main(["threads", "list", "--config", str(config)]) == 0
    assert "ticket-1" in capsys.readouterr().out
    monkeypatch.setenv("AIOPS_STORE", url)
    assert main(["threads", "list"]) == 0
    assert "ticket-1" in capsys.readouterr().out
    monkeypatch.delenv("AIOPS_STORE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_url() == f"sqlite:///{tmp_path / 'xdg' / 'aiops' / 'threads.db'}"
    assert main(["threads", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no threads"
    assert (tmp_path / "xdg" / "aiops" / "threads.db").exists()


def test_bad_input_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["threads", "list", "--store", "mongo://x"]) == 2
    assert "Unknown store scheme 'mongo'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["threads", "prune", "--older-than", "soon", "--store", "memory://"])
    assert "invalid duration" in capsys.readouterr().err
    assert main(["threads"]) == 2


def test_parse_duration() -> None:
    assert parse_duration("90") == timedelta(seconds=90)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1.5h") == timedelta(minutes=90)
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("2w") == timedelta(weeks=2)
