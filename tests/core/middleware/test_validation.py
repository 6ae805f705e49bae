"""``validation``: input rules block, sensitive output is redacted or blocked (also when streamed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiops_core import Agent, MiddlewareSpec
from aiops_core.agent import TextDelta as AgentTextDelta
from aiops_core.errors import ContentBlockedError, UserError
from aiops_core.messages import DataPart, ImagePart, UserMessage
from aiops_core.middleware import resolve_specs
from aiops_core.providers import FunctionModel, ModelRequest

from .conftest import Script

pytestmark = pytest.mark.anyio


def validation(**config: Any) -> MiddlewareSpec:
    return MiddlewareSpec("validation", config=config)


@pytest.mark.parametrize(
    ("prompt", "config", "match"),
    [
        ("   ", {}, "empty"),
        ("x" * 101, {"max_input_chars": 100}, "101 characters long; the limit is 100"),
        (
            "please DROP TABLE devices",
            {"deny_patterns": [r"drop\s+table"]},
            "blocked by a content rule",
        ),
    ],
)
async def test_input_rules_block_before_the_model(
    prompt: str, config: dict[str, Any], match: str
) -> None:
    script = Script("never")
    with pytest.raises(ContentBlockedError, match=match) as info:
        await Agent(script.model, middleware=[validation(**config)]).run(prompt)
    assert info.value.middleware == "validation"
    assert script.calls == 0


async def test_valid_input_passes_and_images_are_not_empty() -> None:
    script = Script("fine")
    agent = Agent(script.model, middleware=[validation(deny_patterns=["forbidden"])])
    assert (await agent.run("show interfaces")).output == "fine"
    image = UserMessage(content=[ImagePart(url="http://127.0.0.1/diagram.png")])
    assert (await agent.run(image)).output == "fine"
    empty_ok = Agent(script.model, middleware=[validation(allow_empty=True)])
    assert (await empty_ok.run("")).output == "fine"


async def test_input_is_checked_once_per_run_not_on_every_step() -> None:
    # The second model step still sees the same user message; a failing re-check would show.
    script = Script(lambda r: "done")
    agent = Agent(script.model, middleware=[validation(max_input_chars=10)])
    assert (await agent.run("short")).output == "done"


async def test_sensitive_output_is_redacted() -> None:
    answer = "Use this:\nsnmp-server community s3cr3t RO\nand api_key=abcdef123456 for the API."
    agent = Agent(Script(answer).model, middleware=[validation()])
    result = await agent.run("config?")
    assert "s3cr3t" not in result.output and "abcdef123456" not in result.output
    assert "snmp-server community [REDACTED:password] RO" in result.output
    assert result.messages[-1].content == result.output  # the stored answer is redacted too


async def test_sensitive_output_can_block_the_answer() -> None:
    agent = Agent(
        Script("the password: hunter2").model, middleware=[validation(output_action="block")]
    )
    with pytest.raises(ContentBlockedError, match=r"sensitive data \(password\)"):
        await agent.run("q")


async def test_custom_output_patterns() -> None:
    agent = Agent(
        Script("ticket INC-4711 is open").model,
        middleware=[validation(output_patterns=[r"INC-\d+"])],
    )
    assert (await agent.run("q")).output == "ticket [REDACTED:custom] is open"


async def test_streamed_output_is_redacted_line_by_line() -> None:
    async def chunks(request: ModelRequest) -> AsyncIterator[str]:
        for part in ("enable sec", "ret 5 $1$ab", "cd\nall ", "good"):
            yield part

    agent = Agent(FunctionModel(stream_function=chunks), middleware=[validation()])
    events = [e async for e in agent.stream("q")]
    text = "".join(e.text for e in events if isinstance(e, AgentTextDelta))
    assert text == "enable secret 5 [REDACTED:password]\nall good"
    assert "$1$" not in text


def test_config_errors_name_the_field() -> None:
    with pytest.raises(
        UserError, match=r"invalid config deny_patterns: .*invalid regular expression"
    ):
        resolve_specs([validation(deny_patterns=["(unclosed"])])
    with pytest.raises(UserError, match=r"invalid config output_types: .*unknown types \['ssn'\]"):
        resolve_specs([validation(output_types=["ssn"])])


async def test_data_parts_do_not_count_as_empty() -> None:
    agent = Agent(Script("ok").model, middleware=[validation()])
    assert (await agent.run(UserMessage(content=[DataPart(data={"a": 1})]))).output == "ok"


async def test_a_streamed_private_key_never_reaches_the_user() -> None:
    key = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nq2Ev9Q==\n-----END RSA PRIVATE KEY-----"
    )

    async def chunks(request: ModelRequest) -> AsyncIterator[str]:
        yield "Here it is:\n"
        for line in key.splitlines(keepends=True):
            yield line
        yield "\nkeep it safe"

    agent = Agent(FunctionModel(stream_function=chunks), middleware=[validation()])
    deltas = [e.text async for e in agent.stream("q") if isinstance(e, AgentTextDelta)]
    text = "".join(deltas)
    assert text == "Here it is:\n[REDACTED:private_key]\nkeep it safe"
    assert deltas[0] == "Here it is:\n"  # text before the key is not held back
