from __future__ import annotations

import threading
from typing import Annotated, Literal

import anyio
import pytest
from pydantic import BaseModel, Field

from aiops_core.context import RunContext
from aiops_core.errors import UserError
from aiops_core.messages import DataPart, ImagePart, ToolCall
from aiops_core.tools import Tool, ToolInvocation, execute_tool, to_content, tool


def invoke(t: Tool | None, arguments=None, *, name=None, timeout=None, invalid=None, ctx=None):
    call = ToolCall(
        id="c1",
        name=name or (t.name if t else "missing"),
        arguments=arguments or {},
        invalid_arguments=invalid,
    )
    return execute_tool(ToolInvocation(call, t, ctx or RunContext(), timeout))


@tool
def interface_status(device: str, interface: str = "Ethernet1", detail: bool = False) -> dict:
    """Return the operational status of an interface.

    Checks the device's live state.

    Args:
        device: device name, for example core-sw-01.
        interface: interface name.
        detail: include counters.

    Returns:
        a dict.
    """
    return {"device": device, "interface": interface, "detail": detail}


def test_schema_and_description_come_from_signature_and_docstring():
    assert interface_status.name == "interface_status"
    assert (
        interface_status.description
        == "Return the operational status of an interface.\n\nChecks the device's live state."
    )
    schema = interface_status.parameters
    assert schema["type"] == "object"
    assert schema["required"] == ["device"]
    assert schema["properties"]["device"] == {
        "type": "string",
        "description": "device name, for example core-sw-01.",
    }
    assert schema["properties"]["interface"]["default"] == "Ethernet1"
    assert schema["properties"]["detail"]["type"] == "boolean"
    assert schema["additionalProperties"] is False


def test_options_override_name_description_and_carry_metadata():
    @tool(name="reboot", description="Reboot a device.", timeout=5, metadata={"writes": True})
    async def do_reboot(device: Annotated[str, Field(examples=["r1"])]) -> str:
        return device

    assert (do_reboot.name, do_reboot.description, do_reboot.timeout) == (
        "reboot",
        "Reboot a device.",
        5,
    )
    assert do_reboot.metadata == {"writes": True}
    assert do_reboot.parameters["properties"]["device"]["examples"] == ["r1"]


def test_literal_and_model_arguments_produce_json_schema():
    class Filter(BaseModel):
        site: str
        role: Literal["core", "edge"] = "core"

    @tool
    async def find(filter: Filter, limit: int = 10) -> list:
        """Find devices."""
        return [filter.site, filter.role, limit]

    assert "$defs" in find.parameters
    assert find.parameters["required"] == ["filter"]


@pytest.mark.anyio
async def test_sync_tools_run_in_a_worker_thread():
    seen = {}

    @tool
    def where() -> str:
        """Report the thread."""
        seen["thread"] = threading.get_ident()
        return "ok"

    result = await invoke(where)
    assert result.content == "ok" and not result.is_error
    assert seen["thread"] != threading.get_ident()


@pytest.mark.anyio
async def test_valid_call_returns_data_part():
    result = await invoke(interface_status, {"device": "r1"})
    assert not result.is_error
    assert result.content == [
        DataPart(data={"device": "r1", "interface": "Ethernet1", "detail": False})
    ]
    assert (result.tool_call_id, result.name) == ("c1", "interface_status")


@pytest.mark.anyio
async def test_invalid_arguments_become_a_tool_error_the_model_can_fix():
    result = await invoke(interface_status, {"device": 5, "bogus": 1})
    assert result.is_error
    assert "Invalid arguments for tool 'interface_status'" in result.text
    assert "device" in result.text and "bogus" in result.text


@pytest.mark.anyio
async def test_missing_required_argument_is_reported():
    result = await invoke(interface_status, {})
    assert result.is_error and "device: Field required" in result.text


@pytest.mark.anyio
async def test_malformed_json_arguments_become_a_tool_error():
    result = await invoke(interface_status, invalid='{"device": ')
    assert result.is_error and "not a JSON object" in result.text


@pytest.mark.anyio
async def test_exception_inside_tool_gives_type_and_message_without_traceback():
    @tool
    async def broken() -> str:
        """Always fails."""
        raise ConnectionRefusedError("device unreachable")

    result = await invoke(broken)
    assert result.is_error
    assert result.text == "ConnectionRefusedError: device unreachable"
    assert "Traceback" not in result.text


@pytest.mark.anyio
async def test_unknown_tool_is_a_tool_error():
    result = await invoke(None, name="nope")
    assert result.is_error and "Unknown tool 'nope'" in result.text


@pytest.mark.anyio
async def test_per_tool_timeout_wins_over_default():
    @tool(timeout=0.05)
    async def slow() -> str:
        """Sleeps."""
        await anyio.sleep(5)
        return "done"

    result = await invoke(slow, timeout=10)
    assert result.is_error and result.text == "ToolTimeoutError: tool 'slow' timed out after 0.05s"


@pytest.mark.anyio
async def test_default_timeout_applies_to_sync_tools_too():
    event = threading.Event()

    @tool
    def blocking() -> str:
        """Blocks until released."""
        event.wait(5)
        return "done"

    result = await invoke(blocking, timeout=0.05)
    event.set()
    assert result.is_error and "timed out" in result.text


@pytest.mark.anyio
async def test_run_context_is_injected_and_hidden_from_the_model():
    @tool
    async def whoami(ctx: RunContext, verbose: bool = False) -> str:
        """Who is asking."""
        return f"{ctx.user}:{verbose}"

    assert "ctx" not in whoami.parameters["properties"]
    result = await invoke(whoami, {"verbose": True}, ctx=RunContext(user="alice"))
    assert result.content == "alice:True"


def test_to_content_conversions():
    image = ImagePart(data="AAA=")
    assert to_content("text") == "text"
    assert to_content(image) == [image]
    assert to_content([image]) == [image]
    assert to_content({"a": 1}) == [DataPart(data={"a": 1})]
    assert to_content(3) == [DataPart(data=3)]
    assert to_content({1, 2}) in ("{1, 2}", "{2, 1}")


def test_bad_tool_definitions_raise_user_errors():
    with pytest.raises(UserError, match="args/\\*\\*kwargs"):

        @tool
        def bad(*hosts: str) -> None:
            """Bad."""

    with pytest.raises(UserError, match="Tool name"):
        Tool("has space", "d", {}, invoke)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="timeout must be positive"):
        Tool("ok", "d", {}, invoke, timeout=0)  # type: ignore[arg-type]


def test_tools_rebuilt_per_request_share_their_arguments_model_but_not_their_schema():
    from aiops_core.tools import tool as make_tool

    def build(prefix: str):
        @make_tool(name="echo")
        async def echo(text: str, times: int = 1) -> str:
            """Repeat text.

            Args:
                text: what to repeat.
            """
            return prefix + text * times

        return echo

    first, second = build("a"), build("b")
    assert first.parameters == second.parameters
    assert first.parameters["properties"]["text"]["description"] == "what to repeat."
    first.parameters["properties"].pop("times")  # a caller changing its copy
    assert "times" in second.parameters["properties"]
    assert "times" in build("c").parameters["properties"]
