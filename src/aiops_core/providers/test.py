"""The ``test`` model: deterministic, offline, for demos and users' own tests.

On a new user turn it calls every available tool once, in parallel, with schema-valid arguments
(examples, defaults or enum values where the schema has them); once the results are back it
answers with a summary of them. With a structured-output request it answers with JSON generated
from the schema.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

from pydantic import Field

from ..messages import AssistantMessage, Message, ToolCall, ToolResultMessage, Usage, UserMessage
from .base import (
    ModelRequest,
    ModelResponse,
    ModelStreamEvent,
    ResponseDone,
    TextDelta,
    ToolCallDelta,
)
from .registry import ProviderConfig, ProviderHandler

__all__ = ["TestHandler", "TestModel", "example_from_schema"]


def example_from_schema(schema: dict[str, Any], defs: dict[str, Any] | None = None) -> Any:
    """A value that validates against a (pydantic-style) JSON schema."""
    defs = defs if defs is not None else schema.get("$defs", {})
    if "$ref" in schema:
        return example_from_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if schema.get("examples"):
        return schema["examples"][0]
    if "default" in schema:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return example_from_schema(schema[key][0], defs)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        required = schema.get("required", [])
        return {name: example_from_schema(props[name], defs) for name in required if name in props}
    if kind == "array":
        count = schema.get("minItems", 1)
        return [example_from_schema(schema.get("items", {}), defs) for _ in range(count)]
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-01-01T00:00:00Z"
        if schema.get("format") == "date":
            return "2026-01-01"
        return "a" * max(1, schema.get("minLength", 1))
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    return None


def _estimate_tokens(messages: Sequence[Message]) -> int:
    return sum(len(json.dumps(m.model_dump(mode="json"), default=str)) for m in messages) // 4 + 1


class TestModel:
    """Deterministic offline model. See the module docstring for its behaviour.

    Args:
        model_name: label shown in ``name`` (``test:<model_name>``).
        call_tools: ``"all"`` or the names of the tools to call on a new turn.
        answer: fixed final text instead of the summary of tool results.
        chunk_size: characters per streamed text delta.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        model_name: str = "test",
        *,
        call_tools: str | Sequence[str] = "all",
        answer: str | None = None,
        chunk_size: int = 12,
    ) -> None:
        self.model_name = model_name or "test"
        self.call_tools = call_tools
        self.answer = answer
        self.chunk_size = max(1, chunk_size)

    @property
    def name(self) -> str:
        return f"test:{self.model_name}"

    def _respond(self, request: ModelRequest) -> ModelResponse:
        messages = request.messages
        last_user = max(
            (i for i, m in enumerate(messages) if isinstance(m, UserMessage)), default=-1
        )
        turn = messages[last_user + 1 :]
        called = any(isinstance(m, AssistantMessage) and m.tool_calls for m in turn)
        tools = [t for t in request.tools if self.call_tools == "all" or t.name in self.call_tools]
        usage = Usage(input_tokens=_estimate_tokens(messages), requests=1)
        if tools and not called and request.settings.get("tool_choice") != "none":
            step = sum(1 for m in messages if isinstance(m, AssistantMessage)) + 1
            calls = [
                ToolCall(
                    id=f"call_{step}_{i}", name=t.name, arguments=example_from_schema(t.parameters)
                )
                for i, t in enumerate(tools)
            ]
            message = AssistantMessage(tool_calls=calls)
            finish = "tool_calls"
        else:
            message = AssistantMessage(content=self._final_text(request, turn))
            finish = "stop"
        out = len(message.content) // 4 + 8 * len(message.tool_calls) + 1
        return ModelResponse(
            message=message,
            usage=usage + Usage(output_tokens=out),
            finish_reason=finish,
            model=self.name,
        )

    def _final_text(self, request: ModelRequest, turn: Sequence[Message]) -> str:
        if request.output_schema is not None:
            return json.dumps(example_from_schema(request.output_schema.json_schema))
        if self.answer is not None:
            return self.answer
        results = [m for m in turn if isinstance(m, ToolResultMessage)]
        if not results:
            user = next((m for m in reversed(request.messages) if isinstance(m, UserMessage)), None)
            asked = user.text if user else ""
            return f"(test model) You said: {asked}" if asked else "(test model) Hello."
        lines = [f"(test model) I called {len(results)} tool(s):"]
        for result in results:
            text = result.text.replace("\n", " ")
            if len(text) > 160:
                text = text[:157] + "..."
            status = "error" if result.is_error else "ok"
            lines.append(f"- {result.name} ({status}): {text}")
        return "\n".join(lines)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        return self._respond(request)

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        response = self._respond(request)
        text = response.message.content
        for start in range(0, len(text), self.chunk_size):
            yield TextDelta(text[start : start + self.chunk_size])
        for index, call in enumerate(response.message.tool_calls):
            args = json.dumps(call.arguments)
            yield ToolCallDelta(index, id=call.id, name=call.name)
            for start in range(0, len(args), self.chunk_size):
                yield ToolCallDelta(index, arguments=args[start : start + self.chunk_size])
        yield ResponseDone(response)

    async def aclose(self) -> None:
        return None


class TestConfig(ProviderConfig):
    """Config of the ``test`` handler."""

    call_tools: str | list[str] = Field("all", description='"all" or tool names to call')
    answer: str | None = Field(None, description="fixed final answer")
    chunk_size: int = Field(12, ge=1, description="characters per streamed delta")


class TestHandler(ProviderHandler):
    """Registry entry ``test``: ``get_chat_model("test")`` or ``"test:any-label"``."""

    __test__ = False
    name = "test"
    Config = TestConfig
    options = frozenset()

    def create(self, model: str, config: ProviderConfig, **options: Any) -> TestModel:
        config = cast(TestConfig, config)
        return TestModel(
            model or "test",
            call_tools=config.call_tools,
            answer=config.answer,
            chunk_size=config.chunk_size,
        )
