"""Prompts through the pool: list, get with arguments, use as a system prompt."""

from __future__ import annotations

import pytest

from aiops_core import Agent
from aiops_core.errors import MCPError
from aiops_core.mcp import PromptArgument, PromptInfo
from aiops_core.messages import AssistantMessage, SystemMessage, UserMessage
from aiops_core.providers import FunctionModel

pytestmark = pytest.mark.anyio


async def test_list_and_get_with_arguments(features):
    async with features() as pool:
        listed = await pool.list_prompts()
        result = await pool.get_prompt("feat", "troubleshoot", {"device": "core-sw-01"})
    assert listed == [
        PromptInfo(
            "feat",
            "troubleshoot",
            None,
            "Start troubleshooting a device.",
            [PromptArgument("device", None, True), PromptArgument("symptom", None, False)],
        )
    ]
    assert result.description == "Start troubleshooting a device."
    assert result.messages == [
        UserMessage(content="You troubleshoot core-sw-01; the symptom is packet loss."),
        AssistantMessage(content="I will check interfaces first."),
    ]
    assert result.text == (
        "You troubleshoot core-sw-01; the symptom is packet loss.\n\nI will check interfaces first."
    )


async def test_a_missing_required_argument_is_an_mcp_error(features):
    async with features() as pool:
        with pytest.raises(MCPError, match="could not get prompt 'troubleshoot'"):
            await pool.get_prompt("feat", "troubleshoot", {})


async def test_a_prompt_as_the_agents_system_prompt(features):
    seen = []

    def model(request):
        seen.append(request.messages[0])
        return "checking"

    async with features() as pool:
        prompt = await pool.get_prompt("feat", "troubleshoot", {"device": "r1", "symptom": "flaps"})
    await Agent(FunctionModel(model), system_prompt=prompt.text).run("go")
    assert seen == [
        SystemMessage(
            content="You troubleshoot r1; the symptom is flaps.\n\nI will check interfaces first."
        )
    ]
