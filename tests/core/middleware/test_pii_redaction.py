"""``pii_redaction``: personal data and secrets never reach the model or the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec, tool
from aiops_core.agent import TextDelta as AgentTextDelta
from aiops_core.checkpoint import MemoryStore
from aiops_core.messages import ToolResultMessage, UserMessage
from aiops_core.middleware._patterns import luhn_ok, redact
from aiops_core.providers import FunctionModel, ModelRequest

from .conftest import Script, call

pytestmark = pytest.mark.anyio

RUNNING_CONFIG = """hostname core-sw-01
enable secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0
username admin privilege 15 secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM
username backup password 0 Backup!2024
snmp-server community N0tPublic RO
tacacs-server key 7 0822455D0A16
interface Vlan10
 ip address 10.10.0.1 255.255.255.0
 description uplink to 00:1a:2b:3c:4d:5e
"""


def pii(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("pii_redaction", config=config)


@tool
async def show_running_config(device: str) -> str:
    """The device's running configuration."""
    return RUNNING_CONFIG


async def test_device_config_secrets_are_redacted_but_network_data_stays() -> None:
    script = Script(call("show_running_config", device="core-sw-01"), "done")
    agent = Agent(script.model, tools=[show_running_config], middleware=[pii()])
    result = await agent.run("show me the config")
    stored = next(m for m in result.messages if isinstance(m, ToolResultMessage)).text
    seen = str(script.requests[1].messages)
    for secret in ("$1$mERr$", "$9$nhEm", "Backup!2024", "N0tPublic", "0822455D0A16"):
        assert secret not in stored and secret not in seen
    assert "snmp-server community [REDACTED:password] RO" in stored
    assert "username backup password 0 [REDACTED:password]" in stored
    assert "10.10.0.1 255.255.255.0" in stored and "00:1a:2b:3c:4d:5e" in stored


@tool
async def device_record(name: str) -> dict[str, Any]:
    """A device as structured data (a dict result becomes a DataPart)."""
    return {"name": name, "snmp": "snmp-server community N0tPublic RO", "ip": "10.10.0.1"}


async def test_secrets_in_structured_tool_results_never_reach_the_model() -> None:
    """Found by the demo: a dict result's secrets went to the provider unredacted."""
    script = Script(call("device_record", name="core-sw-01"), "done")
    agent = Agent(script.model, tools=[device_record], middleware=[pii()])
    result = await agent.run("show me the device")
    stored = next(m for m in result.messages if isinstance(m, ToolResultMessage))
    seen = script.requests[1].messages[-1]
    assert isinstance(seen, ToolResultMessage)
    for message in (stored, seen):
        assert "N0tPublic" not in message.model_dump_json()
        assert "snmp-server community [REDACTED:password] RO" in message.text
        assert '"ip":"10.10.0.1"' in message.text.replace(" ", "")


async def test_network_data_is_redacted_when_asked() -> None:
    script = Script(call("show_running_config", device="x"), "done")
    agent = Agent(
        script.model,
        tools=[show_running_config],
        middleware=[pii(ip_address=True, mac_address=True)],
    )
    result = await agent.run("config")
    stored = next(m for m in result.messages if isinstance(m, ToolResultMessage)).text
    assert "10.10.0.1" not in stored and "[REDACTED:ip_address]" in stored
    assert "00:1a:2b:3c:4d:5e" not in stored and "[REDACTED:mac_address]" in stored


async def test_user_pii_never_reaches_the_model_but_stays_in_the_history() -> None:
    store = MemoryStore()
    script = Script("noted")
    agent = Agent(script.model, middleware=[pii()], store=store)
    prompt = "Mail jane.doe@example.com or call +44 20 7946 0958; card 4111 1111 1111 1111; key sk-proj-abcdefghijklmnop1234"
    await agent.run(prompt, thread_id="t1")
    sent = [m for m in script.requests[0].messages if isinstance(m, UserMessage)][-1].text
    assert sent == (
        "Mail [REDACTED:email] or call [REDACTED:phone]; card [REDACTED:credit_card]; key [REDACTED:api_key]"
    )
    thread = await store.load("t1")
    assert thread is not None and thread.messages[0].text == prompt  # type: ignore[union-attr]


async def test_each_type_can_be_switched_off() -> None:
    script = Script("ok")
    agent = Agent(script.model, middleware=[pii(email=False, redact_output=False)])
    await agent.run("write to ops@example.com, password=Secret1")
    sent = script.requests[0].messages[-1].text  # type: ignore[union-attr]
    assert "ops@example.com" in sent and "Secret1" not in sent


async def test_the_answer_is_redacted_also_when_streamed() -> None:
    async def chunks(request: ModelRequest) -> AsyncIterator[str]:
        for part in ("Contact noc", "@example.com\n", "ok"):
            yield part

    agent = Agent(FunctionModel(stream_function=chunks), middleware=[pii()])
    text = "".join([e.text async for e in agent.stream("who?") if isinstance(e, AgentTextDelta)])
    assert text == "Contact [REDACTED:email]\nok"
    result = await Agent(Script("mail noc@example.com").model, middleware=[pii()]).run("who?")
    assert result.output == "mail [REDACTED:email]"


def test_card_numbers_need_a_valid_checksum() -> None:
    assert luhn_ok("4111 1111 1111 1111")
    assert not luhn_ok("1234 5678 9012 3456")
    text, found = redact("serial 1234 5678 9012 3456", ["credit_card"])
    assert found == [] and text == "serial 1234 5678 9012 3456"


def test_ordinary_words_are_not_taken_for_secrets() -> None:
    text = "The key point: the password policy changed; rotate the secret weekly."
    assert redact(text, ["password", "api_key"]) == (text, [])
