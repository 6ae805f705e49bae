"""MCPServerConfig: validation, derived values, tool filters, secrets kept out of sight."""

from __future__ import annotations

import json

import pytest

from aiops_core.errors import UserError
from aiops_core.mcp import MCPServerConfig


def http(**extra) -> MCPServerConfig:
    return MCPServerConfig(name="web", transport="http", url="https://mcp.example.net/", **extra)


def test_stdio_and_http_configs_and_their_defaults():
    stdio = MCPServerConfig(name="time", command="python", args=["-m", "mcp_server_time"])
    assert (stdio.transport, stdio.enabled, stdio.type, stdio.health_url) == (
        "stdio",
        True,
        "internal",
        None,
    )
    web = http()
    assert web.endpoint == "https://mcp.example.net/mcp"
    assert web.health_url == "https://mcp.example.net/health"
    assert web.verify_tls is True
    assert http(mcp_path="api/mcp", health_check=None).endpoint == "https://mcp.example.net/api/mcp"
    assert http(health_check=None).health_url is None
    legacy = MCPServerConfig(name="old", transport="sse", url="http://127.0.0.1:9000")
    assert legacy.endpoint == "http://127.0.0.1:9000/sse"
    assert (
        MCPServerConfig(name="x", transport="streamable-http", url="http://h").transport == "http"
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"name": "a"}, "needs 'command'"),
        ({"name": "a", "transport": "http"}, "needs 'url'"),
        ({"name": "a", "transport": "http", "url": "ftp://x"}, "needs 'url'"),
        ({"name": "a", "command": "x", "url": "http://h"}, "'url' is for http/sse"),
        ({"name": "a b", "command": "x"}, "name"),
        ({"name": "a", "command": "x", "transport": "carrier-pigeon"}, "transport"),
        ({"name": "a", "command": "x", "timeout": 0}, "timeout"),
        ({"name": "a", "command": "x", "colour": "red"}, "colour"),
    ],
)
def test_mistakes_raise_user_errors_that_say_what_to_fix(data, problem):
    with pytest.raises(UserError, match="Invalid MCP server configuration") as info:
        MCPServerConfig.from_dict(data)
    assert problem in str(info.value)


def test_secrets_are_masked_in_repr_and_dumps_but_sent_on_the_wire():
    config = http(
        auth_token="tok-123",
        headers={"X-API-Key": "key-456", "X-Tenant": "ops"},
        env={"PASSWORD": "pw-789"},
    )
    shown = repr(config) + str(config) + json.dumps(config.model_dump(mode="json"))
    for secret in ("tok-123", "key-456", "pw-789"):
        assert secret not in shown
    assert "ops" in shown
    assert config.request_headers() == {
        "X-API-Key": "key-456",
        "X-Tenant": "ops",
        "Authorization": "Bearer tok-123",
    }
    stdio = MCPServerConfig(name="s", command="srv", env={"TOKEN": "t-1"})
    assert stdio.environment() == {"TOKEN": "t-1"}
    assert "t-1" not in repr(stdio)


def test_allow_and_deny_lists_take_names_and_patterns():
    config = MCPServerConfig(
        name="n", command="x", allow_tools=["get_*", "ping"], deny_tools=["get_secret*"]
    )
    assert [t for t in ("get_device", "get_secret_key", "ping", "reboot") if config.offers(t)] == [
        "get_device",
        "ping",
    ]
    everything = MCPServerConfig(name="n", command="x", deny_tools=["reboot"])
    assert everything.offers("anything") and not everything.offers("reboot")
