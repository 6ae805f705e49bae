"""The shipped offline models: ``test`` and ``function``."""

from __future__ import annotations

from datetime import datetime

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel, TypeAdapter

from aiops_core import Agent, get_chat_model, tool
from aiops_core.errors import UserError
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage, UserMessage
from aiops_core.providers import (
    FunctionModel,
    ModelRequest,
    ModelResponse,
    ResponseDone,
    TestModel,
    TextDelta,
    ToolCallDelta,
)
from aiops_core.providers.test import example_from_schema


class Target(BaseModel):
    host: str
    count: int = 3


@tool
async def ping(target: Target, vrf: str | None = None) -> str:
    """Ping a host."""
    return f"{target.host} x{target.count}"


@tool
async def uptime(device: str) -> int:
    """Uptime in seconds."""
    return 42


@pytest.mark.anyio
async def test_test_model_calls_each_tool_once_with_schema_valid_arguments_then_summarises():
    result = await Agent("test", tools=[ping, uptime]).run("check r1")
    first = result.messages[1]
    assert isinstance(first, AssistantMessage)
    assert sorted(c.name for c in first.tool_calls) == ["ping", "uptime"]
    results = [m for m in result.messages if isinstance(m, ToolResultMessage)]
    assert not any(r.is_error for r in results)
    assert result.steps == 2
    assert "I called 2 tool(s)" in result.output and "- uptime (ok): 42" in result.output


@pytest.mark.anyio
async def test_test_model_is_deterministic():
    a = await Agent("test", tools=[ping, uptime]).run("q")
    b = await Agent("test", tools=[ping, uptime]).run("q")
    assert a.messages == b.messages and a.usage == b.usage


@pytest.mark.anyio
async def test_test_model_config_limits_tools_and_fixes_the_answer():
    model = get_chat_model("test:demo", call_tools=["uptime"], answer="all good")
    assert model.name == "test:demo"
    result = await Agent(model, tools=[ping, uptime]).run("q")
    assert result.output == "all good"
    assert [c.name for c in result.tool_calls] == ["uptime"]


@pytest.mark.anyio
async def test_test_model_streams_text_and_tool_call_deltas_that_reassemble():
    model = TestModel(chunk_size=4)
    request = ModelRequest(messages=[UserMessage(content="hi")], tools=[uptime.definition()])
    events = [e async for e in model.stream(request)]
    assert isinstance(events[-1], ResponseDone)
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert "".join(d.arguments for d in deltas) == '{"device": "a"}'
    final = await model.complete(
        ModelRequest(
            messages=[
                *request.messages,
                events[-1].response.message,
                ToolResultMessage(tool_call_id=deltas[0].id or "", name="uptime", content="42"),
            ]
        )
    )
    assert final.message.content.startswith("(test model) I called 1 tool")


FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(datetime.fromisoformat(value))


@pytest.mark.parametrize(
    ("schema", "adapter"),
    [
        (Target.model_json_schema(), TypeAdapter(Target)),
        (TypeAdapter(list[Target]).json_schema(), TypeAdapter(list[Target])),
        (TypeAdapter(dict[str, int]).json_schema(), TypeAdapter(dict[str, int])),
        (
            {
                "type": "object",
                "properties": {"d": {"type": "string", "format": "date-time"}},
                "required": ["d"],
            },
            None,
        ),
        ({"enum": ["a", "b"]}, None),
    ],
    ids=["model", "list-of-models", "dict", "date-time", "enum"],
)
def test_generated_examples_validate_against_their_schema(schema, adapter):
    value = example_from_schema(schema)
    Draft202012Validator(schema, format_checker=FORMATS).validate(value)
    if adapter is not None:  # the type the schema came from accepts the example too
        adapter.validate_python(value)


@pytest.mark.anyio
async def test_function_model_accepts_sync_and_async_callables_and_all_return_shapes():
    async def areply(request):
        return ModelResponse(message=AssistantMessage(content="r"), finish_reason="stop")

    for reply in (lambda r: "s", lambda r: AssistantMessage(content="m"), areply):
        response = await FunctionModel(reply).complete(ModelRequest(messages=[]))
        assert response.message.content in ("s", "m", "r")
    with pytest.raises(UserError, match="return a str"):
        await FunctionModel(lambda r: 42).complete(ModelRequest(messages=[]))
    with pytest.raises(UserError, match="needs"):
        FunctionModel()


@pytest.mark.anyio
async def test_function_model_stream_function_builds_the_final_response():
    async def stream(request):
        yield "a"
        yield TextDelta("b")
        yield ToolCallDelta(0, id="x", name="uptime", arguments='{"device"')
        yield ToolCallDelta(0, arguments=': "r1"}')

    model = get_chat_model("function:scripted", stream_function=stream)
    response = await model.complete(ModelRequest(messages=[]))
    assert response.message == AssistantMessage(
        content="ab", tool_calls=[ToolCall(id="x", name="uptime", arguments={"device": "r1"})]
    )
    assert response.finish_reason == "tool_calls" and model.name == "function:scripted"


@pytest.mark.anyio
async def test_function_model_derives_a_stream_from_its_function():
    model = FunctionModel(
        lambda r: AssistantMessage(
            content="hi", tool_calls=[ToolCall(id="1", name="t", arguments={"a": 1})]
        )
    )
    events = [e async for e in model.stream(ModelRequest(messages=[]))]
    assert [type(e).__name__ for e in events] == ["TextDelta", "ToolCallDelta", "ResponseDone"]


def test_unknown_provider_lists_known_names_and_suggests_the_closest():
    with pytest.raises(UserError, match=r"Did you mean 'test'\?.*Known providers: .*openai.*test"):
        get_chat_model("tset:x")


def test_unknown_config_keys_name_the_field():
    with pytest.raises(UserError, match="chunk_sise: unknown key"):
        get_chat_model("test", chunk_sise=3)
    with pytest.raises(UserError, match="chunk_size"):
        get_chat_model("test", chunk_size=0)
