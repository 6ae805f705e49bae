"""``aiops demo``: the scripted conversation, and the same scenario on a real model's wire."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import Aiops


def test_demo_answers_each_question_from_the_tools_results(aiops: Aiops) -> None:
    """Issue 15: the demo called every tool whatever the question and answered "I called 4"."""
    out = aiops("demo")
    text = out.stdout
    assert "a scripted demo model (offline and deterministic; not an LLM)" in text
    assert "aiops demo --model ollama:llama3.2" in text
    assert "I called" not in text
    turns = text.split("you> ")[1:]
    assert len(turns) == 3
    down, details, prefix = turns
    assert '-> list_devices({"status": "offline"})' in down
    assert '-> list_interfaces({"device": "fra01-access-02", "oper_status": "down"})' in down
    assert "1 device is down:\n- fra01-access-02 (access switch at fra01, 10.11.2.2)" in down
    assert "4 interface(s) down: ge-0/0/1, ge-0/0/2, ge-0/0/3, ge-0/0/4" in down
    # "that device" and "its address" come from the thread's history in the store.
    assert '-> get_device({"name": "fra01-access-02"})' in details
    assert "Juniper EX4300-48T access switch in Frankfurt (fra01), status offline" in details
    assert '-> find_prefix({"address": "10.11.2.2"})' in prefix
    assert (
        "10.11.2.2 is in 10.11.0.0/16: the management prefix of fra01 (VLAN 10, active)." in prefix
    )


def test_demo_shows_the_middleware_and_the_store_at_work(aiops: Aiops) -> None:
    out = aiops("demo")
    # pii_redaction masked the SNMP community before the model (and the screen) saw it.
    assert "snmp-server community [REDACTED:password] RO" in out.stdout
    assert "nms-fra01-ro" not in out.stdout + out.stderr
    assert "[logging] model call scripted-demo:" in out.stderr
    assert "[logging] tool get_device: ok" in out.stderr
    assert "[store] thread 'demo': +6 messages, 6 in memory://" in out.stderr
    assert "[store] 6 earlier messages of thread 'demo' go to the model" in out.stderr
    assert "[store] thread 'demo': +4 messages, 14 in memory://" in out.stderr


def test_demo_is_deterministic_and_keeps_its_thread(aiops: Aiops, tmp_path: Path) -> None:
    first = aiops("demo", "--store", "sqlite:///demo.db", "--thread", "d1")
    second = aiops("demo", "--store", "sqlite:///demo2.db", "--thread", "d1")
    assert first.stdout == second.stdout.replace("demo2.db", "demo.db")
    shown = aiops("threads", "show", "d1", "--store", "sqlite:///demo.db", "--json").stdout
    assert json.loads(shown)["message_count"] == 14


def test_demo_with_a_real_model_runs_the_same_scenario(aiops: Aiops) -> None:
    """``--model provider:name`` asks a real model (here the OpenAI wire format, served locally)."""
    from tests.servers.llm import LLMServer, Reply

    replies = [
        Reply(tool_calls=[("list_devices", {"status": "offline"})]),
        Reply("fra01-access-02 is down."),
        Reply(tool_calls=[("get_device", {"name": "fra01-access-02"})]),
        Reply("It is a Juniper EX4300-48T."),
        Reply(tool_calls=[("find_prefix", {"address": "10.11.2.2"})]),
        Reply("It is in 10.11.0.0/16."),
    ]
    with LLMServer() as server:
        server.script(*replies)
        out = aiops(
            "demo",
            "--model",
            "openai:gpt-4o-mini",
            env={"OPENAI_API_KEY": "k", "OPENAI_BASE_URL": f"{server.url}/v1"},
        )
        bodies = [r.body for r in server.requests]
    assert "aiops demo: model openai:gpt-4o-mini" in out.stdout
    assert "scripted" not in out.stdout
    assert "It is in 10.11.0.0/16." in out.stdout
    # The real model saw the tools, the history, and the redacted tool result.
    assert {t["function"]["name"] for t in bodies[0]["tools"]} == {
        "list_devices",
        "get_device",
        "list_interfaces",
        "find_prefix",
    }
    last = json.dumps(bodies[-1]["messages"])
    assert "Which devices are down right now?" in last and "[REDACTED:password]" in last
    assert "nms-fra01-ro" not in json.dumps(bodies)
