"""Elicitation: defaults, validation, and accept / decline / cancel round trips with a real server."""

from __future__ import annotations

import json

import pytest

from aiops_core.context import RunContext
from aiops_core.errors import InputRequired, MCPError, UserError
from aiops_core.mcp import (
    PAUSE,
    ElicitationRequest,
    ElicitationResponse,
    apply_defaults,
    fingerprint,
    validate_content,
)

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


async def test_in_pause_mode_a_question_stops_the_runs_call_with_input_required(features):
    run = RunContext()
    async with features(elicitation=PAUSE) as pool:
        with pytest.raises(InputRequired) as caught:
            await pool.call_tool("feat", "ask", {"question": "Who is on call?"}, context=run)
        question = caught.value.request
        assert (question["server"], question["message"], question["run_id"]) == (
            "feat",
            "Who is on call?",
            run.run_id,
        )
        assert question["schema"]["required"] == ["name"]
        assert caught.value.reason == "input required: Who is on call?"

        # The resumed turn carries the answer; the call runs again and the server gets it.
        resumed = RunContext(
            input_answers={fingerprint(question): {"action": "accept", "content": {"name": "Ada"}}}
        )
        result = await pool.call_tool(
            "feat", "ask", {"question": "Who is on call?"}, context=resumed
        )
        assert json.loads(result.content[0].text) == {
            "action": "accept",
            "data": {"name": "Ada", "team": "netops", "pager": True, "level": 2},
        }
        # A different question is not answered by that answer: it pauses again.
        with pytest.raises(InputRequired):
            await pool.call_tool("feat", "ask", {"question": "Who else?"}, context=resumed)
        # Outside a run nobody can answer: the server hears "decline".
        assert await ask(pool) == {"action": "decline", "data": None}
        assert pool.session("feat").healthy


async def test_a_run_may_ask_to_pause_even_where_the_pool_has_a_handler(features):
    asked: list[ElicitationRequest] = []

    async def person(request: ElicitationRequest) -> ElicitationResponse:
        asked.append(request)
        return ElicitationResponse.decline()

    async with features(elicitation=person) as pool:
        with pytest.raises(InputRequired):
            await pool.call_tool(
                "feat", "ask", {"question": "?"}, context=RunContext(pause_for_input=True)
            )
        assert await ask(pool) == {"action": "decline", "data": None}
    assert len(asked) == 1  # only the call outside the pausing run reached the handler


def test_fingerprints_ignore_the_run_and_the_ids():
    a = ElicitationRequest("feat", "Who?", schema=SCHEMA, run_id="r1", elicitation_id="e1")
    b = ElicitationRequest("feat", "Who?", schema=SCHEMA, run_id="r2", elicitation_id="e2")
    assert fingerprint(a) == fingerprint(b) == fingerprint(a.as_dict())
    assert fingerprint(a) != fingerprint(ElicitationRequest("other", "Who?", schema=SCHEMA))
