"""Run limits on tools: result size (local and MCP tools) and tool calls per model step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.mcp_servers.support import FAST, stdio_config

from aiops_core import Agent, tool
from aiops_core.agent import ToolCallFinished, ToolCallStarted
from aiops_core.errors import UserError
from aiops_core.mcp import MCPClientPool
from aiops_core.messages import AssistantMessage, DataPart, ToolCall, ToolResultMessage
from aiops_core.providers import FunctionModel, ModelRequest

pytestmark = pytest.mark.anyio


class CallsThenAnswer:
    """A model that makes ``calls`` once, then answers; it keeps every request."""

    def __init__(self, *calls: ToolCall) -> None:
        self.calls = list(calls)
        self.requests: list[ModelRequest] = []
        self.model = FunctionModel(self.reply)

    def reply(self, request: ModelRequest) -> Any:
        self.requests.append(request)
        if isinstance(request.messages[-1], ToolResultMessage):
            return "done"
        return AssistantMessage(tool_calls=self.calls)

    def results(self) -> list[ToolResultMessage]:
        return [m for m in self.requests[-1].messages if isinstance(m, ToolResultMessage)]


@tool
async def show_log(lines: int) -> str:
    """A device log."""
    return "".join(f"{i:06d} link flap on Ethernet1/1\n" for i in range(lines))


@tool
async def inventory(devices: int) -> list[dict[str, Any]]:
    """Many devices."""
    return [{"name": f"sw{i:05d}", "site": "fra1", "status": "active"} for i in range(devices)]


@tool
async def explode(size: int) -> str:
    """Fails with a long message."""
    raise RuntimeError("x" * size)


async def test_a_huge_tool_result_is_truncated_with_a_marker() -> None:
    script = CallsThenAnswer(ToolCall(id="c1", name="show_log", arguments={"lines": 10_000}))
    result = await Agent(script.model, tools=[show_log]).run("show the log")
    (sent,) = script.results()
    full = 10_000 * len("000000 link flap on Ethernet1/1\n")
    text = sent.text
    assert text.startswith("000000 link flap")
    assert len(text) < 20_000 + 300
    assert f"[truncated: this tool result had {full:,} characters; {full - 20_000:,} were cut" in (
        text
    )
    assert "read_tool_result(call_id='c1', offset=20000" in text
    stored = result.messages[2]  # the turn holds the whole result; only the request is capped
    assert isinstance(stored, ToolResultMessage) and len(stored.text) == full


async def test_data_results_and_error_texts_are_capped_too() -> None:
    script = CallsThenAnswer(
        ToolCall(id="c1", name="inventory", arguments={"devices": 5_000}),
        ToolCall(id="c2", name="explode", arguments={"size": 50_000}),
    )
    await Agent(script.model, tools=[inventory, explode], max_tool_result_chars=1_000).run("go")
    data, error = script.results()
    assert not any(isinstance(p, DataPart) for p in data.content)  # cut JSON is text now
    assert data.text.startswith('[{"name":"sw00000"') and "[truncated:" in data.text
    assert error.is_error and error.text.startswith("RuntimeError: xxx")
    assert len(error.text) < 1_300 and "50,014 characters" in error.text


async def test_without_a_cap_the_result_is_whole() -> None:
    script = CallsThenAnswer(ToolCall(id="c1", name="show_log", arguments={"lines": 2_000}))
    await Agent(script.model, tools=[show_log], max_tool_result_chars=None).run("show the log")
    (sent,) = script.results()
    assert "truncated" not in sent.text and len(sent.text) == 2_000 * 32


async def test_a_huge_mcp_tool_result_from_a_real_server_is_truncated(tmp_path: Path) -> None:
    mode = tmp_path / "mode"
    mode.write_text("normal")
    script = CallsThenAnswer(
        ToolCall(id="c1", name="flood", arguments={"chars": 2_000_000}),
        ToolCall(id="c2", name="flood_error", arguments={"chars": 300_000}),
    )
    async with MCPClientPool([stdio_config("lab", mode)], **FAST) as pool:
        agent = Agent(script.model, tools=[pool], max_tool_result_chars=5_000)
        result = await agent.run("show everything")
        flood, flood_error = script.results()
        assert flood.text.startswith("interface Ethernet1/1 is up") and not flood.is_error
        assert len(flood.text) < 5_300
        assert "had 2,000,000 characters; 1,995,000 were cut" in flood.text
        assert flood_error.is_error and len(flood_error.text) < 5_300
        assert "[truncated:" in flood_error.text
        assert result.output == "done"
        assert pool.session("lab").healthy  # the server is fine and stays usable
        again = await agent.run("once more")
        assert again.output == "done"


async def test_calls_beyond_the_per_step_cap_get_an_error_result_not_silence() -> None:
    ran: list[int] = []

    @tool
    async def ping(n: int) -> str:
        """Ping."""
        ran.append(n)
        return f"pong {n}"

    calls = [ToolCall(id=f"c{n}", name="ping", arguments={"n": n}) for n in range(20)]
    script = CallsThenAnswer(*calls)
    agent = Agent(script.model, tools=[ping])
    events = [e async for e in agent.stream("ping 20 hosts")]
    assert sorted(ran) == list(range(16))
    results = script.results()
    # Every call has its result, in call order: a valid history for every provider.
    assert [r.tool_call_id for r in results] == [c.id for c in calls]
    assert [r.text for r in results[:16]] == [f"pong {n}" for n in range(16)]
    for refused in results[16:]:
        assert refused.is_error
        assert "Not run: at most 16 tool calls are run per step" in refused.text
    started = [e.call.id for e in events if isinstance(e, ToolCallStarted)]
    finished = [e.result for e in events if isinstance(e, ToolCallFinished)]
    assert started == [c.id for c in calls] and finished == results


async def test_the_per_step_cap_is_configurable() -> None:
    calls = [ToolCall(id=f"c{n}", name="show_log", arguments={"lines": 1}) for n in range(3)]
    script = CallsThenAnswer(*calls)
    await Agent(script.model, tools=[show_log], max_tool_calls_per_step=1).run("logs")
    assert [r.is_error for r in script.results()] == [False, True, True]
    assert "at most 1 tool calls" in script.results()[1].text


def test_limits_are_checked() -> None:
    with pytest.raises(UserError, match="max_tool_result_chars must be at least 1"):
        Agent("test", max_tool_result_chars=0)
    with pytest.raises(UserError, match="max_tool_calls_per_step must be at least 1"):
        Agent("test", max_tool_calls_per_step=0)
