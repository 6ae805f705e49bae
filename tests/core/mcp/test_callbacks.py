"""Roots, server log messages, progress and cancellation through the pool."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import pytest
from tests.mcp_servers.support import eventually

from aiops_core.context import RunContext
from aiops_core.errors import MCPTimeoutError
from aiops_core.mcp import server_logger
from aiops_core.mcp.callbacks import RunBinding, root_uri

pytestmark = pytest.mark.anyio


async def capabilities(pool) -> dict:
    return json.loads((await pool.call_tool("feat", "capabilities", {})).content[0].text)


async def test_roots_are_offered_only_when_configured(features, tmp_path: Path):
    async with features() as pool:
        assert "roots" not in await capabilities(pool)
    async with features({"roots": [str(tmp_path)]}, roots=["file:///srv/configs"]) as pool:
        assert (await capabilities(pool))["roots"] == {"list_changed": True}
        result = await pool.call_tool("feat", "roots", {})
    assert result.structured_content == {"result": ["file:///srv/configs", tmp_path.as_uri()]}


def test_paths_become_file_uris_and_uris_stay(tmp_path: Path):
    assert root_uri(str(tmp_path)) == tmp_path.resolve().as_uri()
    assert root_uri("file:///etc/network") == "file:///etc/network"


async def test_server_log_messages_go_to_python_logging_under_the_servers_name(features, caplog):
    caplog.set_level(logging.DEBUG, logger="aiops_core.mcp.server")
    async with features() as pool:
        await pool.call_tool("feat", "chatty", {})
    records = [r for r in caplog.records if r.name == "aiops_core.mcp.server.feat"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "[syslog] link up on ge-0/0/1"),
        (logging.ERROR, "[syslog] BGP peer down"),
    ]
    assert server_logger("feat").name == "aiops_core.mcp.server.feat"


async def test_progress_notifications_reach_the_caller(features):
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        seen.append((value, total, message))

    async with features() as pool:
        await pool.call_tool("feat", "chatty", {}, progress=progress)
    assert seen == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]


async def test_cancelling_a_call_cancels_it_on_the_server(features):
    async with features() as pool:
        with anyio.move_on_after(0.3):
            await pool.call_tool("feat", "wait", {"seconds": 30})
        await eventually(lambda: features.server.state["cancelled"] == 1, within=5)
        with pytest.raises(MCPTimeoutError):
            await pool.call_tool("feat", "wait", {"seconds": 30}, call_timeout=0.3)
        await eventually(lambda: features.server.state["cancelled"] == 2, within=5)
        # The session is still good afterwards.
        assert (await pool.call_tool("feat", "wait", {"seconds": 0})).content[0].text == "waited"
    assert features.server.state["finished"] == 1


async def test_a_binding_names_the_one_run_in_flight():
    binding = RunBinding()
    first, second = RunContext(), RunContext()
    assert binding.current() is None
    with binding.bind(first):
        assert binding.current() is first
        with binding.bind(first):
            assert binding.current() is first
        assert binding.current() is first
        with binding.bind(second):
            assert binding.current() is None  # two runs: nobody can tell whose request it is
        assert binding.current() is first
    assert binding.current() is None
