"""Round trips with the reference servers: server-everything (stdio and streamable HTTP) and
mcp-server-time: resources, prompts, sampling, elicitation, roots, subscriptions and logging."""

from __future__ import annotations

import json
import logging

import pytest
from tests.mcp_servers.support import EVERYTHING, FAST, eventually, require_everything, time_config

from aiops_core.mcp import (
    ElicitationRequest,
    ElicitationResponse,
    MCPClientPool,
    MCPServerConfig,
)
from aiops_core.messages import TextPart
from aiops_core.providers import FunctionModel

pytestmark = [pytest.mark.anyio, pytest.mark.node, pytest.mark.slow]

FORM = {
    "name": "Ada Lovelace",
    "check": True,
    "email": "ada@example.net",
    "homepage": "https://example.net/ada",
    "birthdate": "1815-12-10",
}


@pytest.fixture(params=["stdio", "http"])
def everything(request) -> MCPServerConfig:
    require_everything()
    options = {"sampling": {"enabled": True, "max_tokens": 40}, "roots": ["file:///srv/configs"]}
    if request.param == "stdio":
        return MCPServerConfig(
            name="ev", command="node", args=[str(EVERYTHING), "stdio"], **options
        )
    url = request.getfixturevalue("everything_http")
    return MCPServerConfig(name="ev", transport="http", url=url, health_check=None, **options)


def model_answer(request) -> str:
    return "sampled: " + request.messages[-1].text


async def answer_form(request: ElicitationRequest) -> ElicitationResponse:
    return ElicitationResponse.accept(FORM)


async def test_resources_prompts_sampling_elicitation_and_roots(everything):
    async with MCPClientPool(
        [everything],
        elicitation=answer_form,
        sampling_model=FunctionModel(model_answer, model_name="ref"),
        ping_interval=None,
        **FAST,
    ) as pool:
        assert pool.session("ev").healthy, pool.status()

        resources = await pool.list_resources("ev")
        templates = await pool.list_resource_templates("ev")
        doc = next(r for r in resources if r.uri.endswith("architecture.md"))
        text = await pool.read_resource("ev", doc.uri)
        dynamic = await pool.read_resource("ev", "demo://resource/dynamic/text/7")

        prompts = {p.name: p for p in await pool.list_prompts("ev")}
        filled = await pool.get_prompt("ev", "args-prompt", {"city": "Lyon", "state": "ARA"})

        sampled = await pool.call_tool(
            "ev", "trigger-sampling-request", {"prompt": "BGP?", "maxTokens": 500}
        )
        elicited = await pool.call_tool("ev", "trigger-elicitation-request", {})
        roots = await pool.call_tool("ev", "get-roots-list", {})

    assert doc.mime_type == "text/markdown" and isinstance(text[0], TextPart) and text[0].text
    assert "demo://resource/dynamic/text/{resourceId}" in [t.uri_template for t in templates]
    assert "7" in dynamic[0].text  # type: ignore[union-attr]
    assert [a.name for a in prompts["args-prompt"].arguments] == ["city", "state"]
    assert "Lyon" in filled.text

    sample = json.loads(sampled.content[0].text.split("LLM sampling result:", 1)[1])
    assert sample["model"] == "function:ref"
    assert sample["content"]["text"].startswith("sampled: ")
    assert "BGP?" in sample["content"]["text"]

    elicited_text = " ".join(c.text for c in elicited.content)
    assert '"action": "accept"' in elicited_text
    assert "Ada Lovelace" in elicited_text
    assert "It was a dark and stormy night." in elicited_text  # a default the client filled in

    assert "file:///srv/configs" in roots.content[0].text


async def test_server_log_messages_reach_python_logging(everything, caplog):
    caplog.set_level(logging.DEBUG, logger="aiops_core.mcp.server.ev")
    async with MCPClientPool([everything], ping_interval=None, **FAST) as pool:
        await pool.call_tool("ev", "toggle-simulated-logging", {})
        await eventually(
            lambda: any(r.name == "aiops_core.mcp.server.ev" for r in caplog.records), within=30
        )
        await pool.call_tool("ev", "toggle-simulated-logging", {})


async def test_resource_subscription_updates_arrive(everything):
    updates: list[str] = []

    async def on_update(server: str, uri: str) -> None:
        updates.append(uri)

    async with MCPClientPool([everything], ping_interval=None, **FAST) as pool:
        uri = (await pool.list_resources("ev"))[0].uri
        await pool.subscribe("ev", uri, on_update)
        await pool.call_tool("ev", "toggle-subscriber-updates", {})
        await eventually(lambda: uri in updates, within=20)
        await pool.call_tool("ev", "toggle-subscriber-updates", {})
        await pool.unsubscribe("ev", uri)


async def test_without_handlers_the_capability_gated_tools_are_not_offered(everything):
    plain = everything.model_copy(
        update={"sampling": everything.sampling.model_copy(update={"enabled": False}), "roots": []}
    )
    async with MCPClientPool([plain], ping_interval=None, **FAST) as pool:
        names = {t.metadata["mcp_tool"] for t in await pool.list_tools()}
    assert "echo" in names
    assert not names & {"trigger-sampling-request", "trigger-elicitation-request", "get-roots-list"}


async def test_a_server_without_resources_or_prompts_lists_none():
    async with MCPClientPool([time_config()], ping_interval=None, **FAST) as pool:
        assert await pool.list_resources() == []
        assert await pool.list_prompts() == []
        result = await pool.call_tool("time", "get_current_time", {"timezone": "UTC"})
    assert "UTC" in result.content[0].text
