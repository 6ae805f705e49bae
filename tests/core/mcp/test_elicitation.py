"""Elicitation: defaults, validation, and accept / decline / cancel round trips with a real server."""

from __future__ import annotations

import json

import pytest

from aiops_core.errors import MCPError, UserError
from aiops_core.mcp import ElicitationRequest, ElicitationResponse, apply_defaults, validate_content

pytestmark = pytest.mark.anyio

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "team": {"type": "string", "default": "netops"},
        "level": {"type": "integer", "minimum": 1, "maximum": 3, "default": 2},
        "pager": {"type": "boolean", "default": True},
        "site": {"type": "string", "enum": ["fra", "ams"]},
    },
    "required": ["name"],
}


def test_defaults_fill_only_missing_fields():
    assert apply_defaults(SCHEMA, {"name": "Ada", "level": 3}) == {
        "name": "Ada",
        "level": 3,
        "team": "netops",
        "pager": True,
    }


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({}, "'name' is a required property"),
        ({"name": "Ada", "level": 7}, "level: 7 is greater than the maximum of 3"),
        ({"name": "Ada", "site": "lon"}, "site: 'lon' is not one of ['fra', 'ams']"),
        ({"name": "Ada", "pager": "yes"}, "pager: 'yes' is not of type 'boolean'"),
    ],
)
def test_validation_names_the_field_and_the_rule(content, problem):
    with pytest.raises(UserError, match="Elicitation answer") as caught:
        validate_content(SCHEMA, content)
    assert problem in str(caught.value)


def test_a_request_survives_a_round_trip_as_a_dict():
    request = ElicitationRequest("feat", "Who?", schema=SCHEMA, run_id="r1")
    assert ElicitationRequest.from_dict(json.loads(json.dumps(request.as_dict()))) == request
    assert request.required == ["name"]
    assert list(request.fields) == ["name", "team", "level", "pager", "site"]


async def ask(pool) -> dict:
    result = await pool.call_tool("feat", "ask", {"question": "Who is on call?"})
    return json.loads(result.content[0].text)


async def test_accept_sends_the_answer_with_the_schema_defaults(features):
    seen: list[ElicitationRequest] = []

    async def person(request: ElicitationRequest) -> ElicitationResponse:
        seen.append(request)
        return ElicitationResponse.accept({"name": "Ada", "level": 3})

    async with features(elicitation=person) as pool:
        answer = await ask(pool)
    assert answer == {
        "action": "accept",
        "data": {"name": "Ada", "team": "netops", "pager": True, "level": 3},
    }
    (request,) = seen
    assert (request.server, request.message, request.mode) == ("feat", "Who is on call?", "form")
    assert request.required == ["name"]
    assert request.fields["team"]["default"] == "netops"


@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_decline_and_cancel_reach_the_server(features, action):
    async def person(request: ElicitationRequest) -> ElicitationResponse:
        return ElicitationResponse(action)

    async with features(elicitation=person) as pool:
        assert await ask(pool) == {"action": action, "data": None}


async def test_an_answer_that_breaks_the_schema_cancels_instead_of_sending_it(features, caplog):
    async def person(request: ElicitationRequest) -> ElicitationResponse:
        return ElicitationResponse.accept({"level": 2})  # no name

    async with features(elicitation=person) as pool:
        assert await ask(pool) == {"action": "cancel", "data": None}
    assert "'name' is a required property" in caplog.text


async def test_a_failing_handler_cancels_and_the_server_is_not_left_waiting(features):
    async def broken(request: ElicitationRequest) -> ElicitationResponse:
        raise RuntimeError("terminal gone")

    async with features(elicitation=broken) as pool:
        assert await ask(pool) == {"action": "cancel", "data": None}


async def test_url_mode_shows_the_url_and_returns_the_consent(features):
    seen: list[ElicitationRequest] = []

    async def person(request: ElicitationRequest) -> ElicitationResponse:
        seen.append(request)
        return ElicitationResponse.accept()

    async with features(elicitation=person) as pool:
        result = await pool.call_tool("feat", "ask_url", {})
    assert result.content[0].text == "accept"
    assert (seen[0].mode, seen[0].url, seen[0].elicitation_id) == (
        "url",
        "https://vendor.example/x",
        "e-1",
    )


async def test_the_capability_is_declared_only_with_a_handler(features):
    async def person(request: ElicitationRequest) -> ElicitationResponse:
        return ElicitationResponse.cancel()

    async with features() as pool:
        plain = json.loads((await pool.call_tool("feat", "capabilities", {})).content[0].text)
        with pytest.raises(MCPError, match="Elicitation not supported"):
            await pool.call_tool("feat", "ask", {"question": "?"})
    async with features(elicitation=person) as pool:
        offered = json.loads((await pool.call_tool("feat", "capabilities", {})).content[0].text)
    assert "elicitation" not in plain
    assert offered["elicitation"] == {"form": {}, "url": {}}
