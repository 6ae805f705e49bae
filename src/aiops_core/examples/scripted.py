"""A scripted stand-in for an LLM, for the offline ``aiops demo``. It is not a language model.

:class:`ScriptedNetOpsModel` recognises three kinds of question about the example inventory and
plays them the way a real model would: it asks for the right tool calls, reads their results
and writes an answer from them, streamed in small pieces. It reads the conversation's history
too ("that device", "its address"), so the demo shows the checkpoint store at work. Anything
else gets an answer that says what it can do.

1. Which devices are down? -> ``list_devices(status="offline")``, then ``list_interfaces`` of
   each offline device (down interfaces only), then a summary.
2. The details of a device (named, or the one the conversation is about) -> ``get_device``.
3. The prefix of an address (given, or the address of the device the conversation is about)
   -> ``find_prefix``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio

from ..messages import AssistantMessage, Message, ToolCall, ToolResultMessage, Usage, UserMessage
from ..providers.base import (
    ModelRequest,
    ModelResponse,
    ModelStreamEvent,
    ResponseDone,
    TextDelta,
    ToolCallDelta,
)

__all__ = ["ScriptedNetOpsModel"]

_DEVICE = re.compile(r"\b[a-z]{3}\d{2}-[a-z]+-\d{2}\b")
_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")
_HELP = (
    "I am the scripted demo model, not an LLM: I can tell you which devices are down, show the "
    "details of one device, or find the prefix of an address. Ask a real model the same with "
    "`aiops demo --model ollama:llama3.2` (or any provider:model)."
)


def _results(turn: Sequence[Message]) -> list[tuple[str, Any, bool]]:
    """(tool name, parsed result, is_error) of every tool result in the turn, in order."""
    out = []
    for message in turn:
        if isinstance(message, ToolResultMessage):
            try:
                value = json.loads(message.text)
            except ValueError:
                value = message.text
            out.append((message.name or "", value, message.is_error))
    return out


def _mentioned(history: Sequence[Message], pattern: re.Pattern[str]) -> str | None:
    """The last match of ``pattern`` in the conversation so far (answers and tool results)."""
    for message in reversed(history):
        text = message.text if isinstance(message, (ToolResultMessage, UserMessage)) else None
        if isinstance(message, AssistantMessage):
            text = message.content
        found = pattern.findall(text or "")
        if found:
            return str(found[-1])
    return None


class ScriptedNetOpsModel:
    """The demo's scripted model (see the module docstring). Deterministic and offline.

    Args:
        delay: seconds between streamed pieces (0: as fast as possible).
    """

    name = "scripted-demo"

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay

    # ------------------------------------------------------------------ the script
    def _respond(self, request: ModelRequest) -> AssistantMessage:
        messages = request.messages
        last_user = max(
            (i for i, m in enumerate(messages) if isinstance(m, UserMessage)), default=-1
        )
        asked = messages[last_user] if last_user >= 0 else None
        question = asked.text.lower() if isinstance(asked, UserMessage) else ""
        history, turn = messages[:last_user], messages[last_user + 1 :]
        results = _results(turn)
        step = sum(1 for m in turn if isinstance(m, AssistantMessage)) + 1
        tools = {t.name for t in request.tools}
        if "down" in question or "offline" in question:
            return self._down(results, step, tools)
        address = _ADDRESS.search(question)
        if "prefix" in question or "subnet" in question or address:
            where = address.group(0) if address else _mentioned(history, _ADDRESS)
            return self._prefix(where, results, step, tools)
        device = _DEVICE.search(question)
        if device or any(w in question for w in ("detail", "device", "tell me about", "show")):
            name = device.group(0) if device else _mentioned(history, _DEVICE)
            return self._details(name, results, step, tools)
        return AssistantMessage(content=_HELP)

    @staticmethod
    def _call(step: int, index: int, tool: str, **arguments: Any) -> ToolCall:
        return ToolCall(id=f"call_{step}_{index}", name=tool, arguments=arguments)

    def _down(
        self, results: list[tuple[str, Any, bool]], step: int, tools: set[str]
    ) -> AssistantMessage:
        if not {"list_devices", "list_interfaces"} <= tools:
            return AssistantMessage(content="I need the inventory tools to answer that.")
        if not results:
            return AssistantMessage(
                tool_calls=[self._call(step, 0, "list_devices", status="offline")]
            )
        devices = next((v for n, v, e in results if n == "list_devices" and not e), None)
        if devices is None:
            return AssistantMessage(content=f"The inventory failed: {results[0][1]}")
        if not devices:
            return AssistantMessage(content="Nothing is down: every device is active or planned.")
        interfaces = [v for n, v, e in results if n == "list_interfaces" and not e]
        if not interfaces:
            calls = [
                self._call(step, i, "list_interfaces", device=d["name"], oper_status="down")
                for i, d in enumerate(devices)
            ]
            return AssistantMessage(tool_calls=calls)
        lines = [f"{len(devices)} device{'s are' if len(devices) > 1 else ' is'} down:"]
        for device, down in zip(devices, interfaces, strict=False):
            names = ", ".join(i["name"] for i in down) or "none"
            lines.append(
                f"- {device['name']} ({device['role']} switch at {device['site']}, "
                f"{device['primary_ip']}): status {device['status']}, "
                f"{len(down)} interface(s) down: {names}"
            )
        return AssistantMessage(content="\n".join(lines))

    def _details(
        self, name: str | None, results: list[tuple[str, Any, bool]], step: int, tools: set[str]
    ) -> AssistantMessage:
        if name is None:
            return AssistantMessage(content="Which device? Name one, such as ams01-core-01.")
        if "get_device" not in tools:
            return AssistantMessage(content="I need the get_device tool to answer that.")
        if not results:
            return AssistantMessage(tool_calls=[self._call(step, 0, "get_device", name=name)])
        _, device, failed = results[0]
        if failed or not isinstance(device, dict):
            return AssistantMessage(content=f"I could not find it: {device}")
        text = (
            f"{device['name']} is a {device['vendor']} {device['model']} {device['role']} switch "
            f"in {device['city']} ({device['site']}), status {device['status']}, management "
            f"address {device['primary_ip']}, software {device['os_version']}."
        )
        snmp = str(device.get("snmp") or "")
        if "[REDACTED" in snmp:
            text += (
                f" SNMP: {snmp} (the pii_redaction middleware masked the community string "
                "before the tool result reached me)."
            )
        elif snmp:
            text += f" SNMP: {snmp}."
        return AssistantMessage(content=text)

    def _prefix(
        self, address: str | None, results: list[tuple[str, Any, bool]], step: int, tools: set[str]
    ) -> AssistantMessage:
        if address is None:
            return AssistantMessage(content="Which address? Give one, such as 10.11.0.2.")
        if "find_prefix" not in tools:
            return AssistantMessage(content="I need the find_prefix tool to answer that.")
        if not results:
            return AssistantMessage(
                tool_calls=[self._call(step, 0, "find_prefix", address=address)]
            )
        _, row, failed = results[0]
        if failed or not isinstance(row, dict):
            return AssistantMessage(content=f"No prefix found: {row}")
        return AssistantMessage(
            content=(
                f"{address} is in {row['prefix']}: the {row['role']} prefix of {row['site']} "
                f"(VLAN {row['vlan']}, {row['status']})."
            )
        )

    # ------------------------------------------------------------------ ChatModel
    def _response(self, request: ModelRequest, message: AssistantMessage) -> ModelResponse:
        chars = sum(len(m.model_dump_json()) for m in request.messages)
        usage = Usage(
            input_tokens=chars // 4 + 1,
            output_tokens=len(message.content) // 4 + 8 * len(message.tool_calls) + 1,
            requests=1,
        )
        finish = "tool_calls" if message.tool_calls else "stop"
        return ModelResponse(message=message, usage=usage, finish_reason=finish, model=self.name)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """The whole scripted answer at once."""
        return self._response(request, self._respond(request))

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        """The scripted answer a few words at a time, then its tool calls."""
        message = self._respond(request)
        for piece in re.findall(r"\S+\s*|\s+", message.content):
            if self.delay:
                await anyio.sleep(self.delay)
            yield TextDelta(piece)
        for index, call in enumerate(message.tool_calls):
            yield ToolCallDelta(
                index, id=call.id, name=call.name, arguments=json.dumps(call.arguments)
            )
        yield ResponseDone(self._response(request, message))

    async def aclose(self) -> None:
        """Nothing to close."""
