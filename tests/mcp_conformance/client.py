"""The client program the MCP conformance suite drives: aiops' MCP pool, configured per scenario.

``python tests/mcp_conformance/client.py URL`` with ``MCP_CONFORMANCE_SCENARIO`` (and, for some
scenarios, ``MCP_CONFORMANCE_CONTEXT``) set by the suite. Everything protocol-related is the
pool's own: OAuth through ``MCPServerConfig.oauth`` and the loopback sign-in, elicitation through
the pool's handler (the defaults come from the pool, not from here). What this program adds is
what a user would: configuration, a "browser" that follows the authorization redirect to the
loopback callback, and the calls each scenario expects. Exit status 0 when every step worked.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from typing import Any
from urllib.parse import urlparse

import anyio
import httpx2

from aiops_core.errors import AiopsError
from aiops_core.mcp import (
    Backoff,
    ElicitationRequest,
    ElicitationResponse,
    LoopbackAuthorizer,
    MCPClientPool,
    MCPServerConfig,
    discover_authorization_server,
)

SERVER = "conformance"
CIMD_URL = "https://conformance-test.local/client-metadata.json"
CALLS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "tools_call": [("add_numbers", {"a": 5, "b": 3})],
    "sse-retry": [("test_reconnection", {})],
    "elicitation-sep1034-client-defaults": [("test_client_elicitation_defaults", {})],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def browser(server: str, url: str) -> None:
    """A person's browser: open the authorization URL and follow its redirects to the callback."""
    async with httpx2.AsyncClient(follow_redirects=True, timeout=20) as client:
        await client.get(url)


async def accept_with_defaults(request: ElicitationRequest) -> ElicitationResponse:
    """A person who accepts the form as offered (the pool fills in the schema's defaults)."""
    return ElicitationResponse.accept({})


async def oauth_settings(scenario: str, context: dict[str, Any], url: str) -> dict[str, Any] | None:
    if not scenario.startswith("auth/"):
        return None
    if scenario.startswith("auth/client-credentials"):
        settings = {"grant": "client_credentials", "client_id": context["client_id"]}
        if "private_key_pem" in context:
            settings["private_key"] = context["private_key_pem"]
            settings["signing_algorithm"] = context.get("signing_algorithm", "RS256")
        else:
            settings["client_secret"] = context["client_secret"]
        return settings
    if scenario == "auth/cross-app-access-complete-flow":
        # An operator configures the authorization server's issuer; this program looks it up once.
        issuer = await discover_authorization_server(url)
        return {
            "grant": "jwt_bearer",
            "client_id": context["client_id"],
            "client_secret": context["client_secret"],
            "issuer": issuer,
            "idp_token_endpoint": context["idp_token_endpoint"],
            "idp_client_id": context.get("idp_client_id"),
            "id_token": context["idp_id_token"],
        }
    settings = {
        "redirect_uri": f"http://127.0.0.1:{free_port()}/callback",
        "client_metadata_url": CIMD_URL,
        "client_name": "aiops conformance client",
    }
    if context.get("client_id"):
        settings["client_id"] = context["client_id"]
        if context.get("client_secret"):
            settings["client_secret"] = context["client_secret"]
    return settings


async def run(url: str) -> int:
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "initialize")
    context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "{}")
    parsed = urlparse(url)
    config = MCPServerConfig(
        name=SERVER,
        transport="http",
        url=f"{parsed.scheme}://{parsed.netloc}",
        mcp_path=parsed.path or "/",
        health_check=None,
        oauth=await oauth_settings(scenario, context, url),
    )
    pool = MCPClientPool(
        [config],
        startup_timeout=20,
        ping_interval=None,
        backoff=Backoff(initial=60, maximum=60),  # one attempt is the test
        elicitation=accept_with_defaults,
        authorizer=LoopbackAuthorizer(browser, timeout=20),
    )
    async with pool:
        session = pool.session(SERVER)
        if not session.healthy:
            print(f"not connected: {session.last_error}", file=sys.stderr)
            return 1
        tools = [t.metadata["mcp_tool"] for t in await pool.list_tools()]
        print(f"tools: {tools}")
        calls = CALLS.get(scenario)
        if calls is None and scenario.startswith("auth/") and tools:
            calls = [(tools[0], {})]
        for name, arguments in calls or []:
            result = await pool.call_tool(SERVER, name, arguments)
            print(f"{name}: {result.model_dump_json(exclude_none=True)}")
    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    try:
        return anyio.run(run, sys.argv[-1])
    except AiopsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
