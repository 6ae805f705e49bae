"""The ``anthropic`` handler: Claude models through the official ``anthropic`` SDK (Messages API).

Extended thinking: ``thinking={"type": "enabled", "budget_tokens": 2048}`` (or ``thinking=2048``),
``thinking="adaptive"`` (Claude decides how much to think; pair it with ``effort``), or
``{"type": "disabled"}``; ``interleaved_thinking=True`` lets Claude think between tool calls with
an enabled budget. Thinking arrives as :class:`~aiops_core.messages.ThinkingPart` objects and
streams as :class:`~aiops_core.providers.base.ThinkingDelta` events; the wire mapping (signed
blocks sent back unmodified) is in :mod:`._anthropic_wire`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._anthropic_wire import (
    StreamReader,
    add_cache_breakpoints,
    anthropic_messages,
    lacks_thinking,
    output_tool,
    read_message,
)
from ._config import (
    SETTING_KEYS,
    ChatConfig,
    prompt_cache_field,
    resolve_secret,
    setting_error,
)
from ._model import SDKChatModel
from .base import (
    REASONING_KEYS,
    ModelRequest,
    ModelResponse,
    ModelSettings,
    ModelStreamEvent,
    ResponseDone,
)
from .registry import ProviderConfig, ProviderHandler

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic

__all__ = [
    "AnthropicChatModel",
    "AnthropicConfig",
    "AnthropicHandler",
    "AnthropicThinking",
    "anthropic_messages",
]

log = logging.getLogger("aiops_core.providers.anthropic")

INTERLEAVED_BETA = "interleaved-thinking-2025-05-14"
"""The beta flag that lets Claude think between tool calls with an enabled thinking budget."""

_THINKING_KEYS = ("thinking", "effort", "interleaved_thinking")


class AnthropicThinking(BaseModel):
    """The ``thinking`` setting: enabled with a token budget, adaptive, or disabled."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    type: Literal["enabled", "adaptive", "disabled"] = Field(
        "enabled", description="enabled (with budget_tokens), adaptive (Claude decides), disabled"
    )
    budget_tokens: int | None = Field(
        None, ge=1024, description="most tokens to think with (type enabled; at least 1024)"
    )
    display: Literal["summarized", "omitted"] | None = Field(
        None, description="summarized: thinking text returned; omitted: only its signature"
    )

    @model_validator(mode="after")
    def _budget(self) -> AnthropicThinking:
        if self.type == "enabled" and self.budget_tokens is None:
            raise setting_error(
                'thinking type "enabled" needs budget_tokens (at least 1024), '
                'e.g. {"type": "enabled", "budget_tokens": 2048}'
            )
        if self.type != "enabled" and self.budget_tokens is not None:
            raise setting_error(
                f'budget_tokens applies to thinking type "enabled", not {self.type!r}'
            )
        return self

    @property
    def on(self) -> bool:
        """Claude may think (enabled or adaptive)."""
        return self.type != "disabled"


def _shorthand_schema(schema: dict[str, Any]) -> None:
    """The shorthand forms of ``thinking`` are valid values too."""
    schema.setdefault("anyOf", []).extend(
        [
            {"type": "integer", "minimum": 1024},
            {"type": "string", "enum": ["adaptive", "disabled"]},
        ]
    )


class AnthropicConfig(ChatConfig):
    """Config of the ``anthropic`` handler (``max_tokens`` is required by the API: default 4096)."""

    setting_keys: ClassVar[tuple[str, ...]] = (*SETTING_KEYS, *_THINKING_KEYS)

    max_tokens: int | None = Field(4096, ge=1, description="most tokens in the answer")
    thinking: AnthropicThinking | None = Field(
        None,
        description='extended thinking: {"type": "enabled", "budget_tokens": 2048} (or just the '
        'budget, 2048), {"type": "adaptive"} (or "adaptive"), {"type": "disabled"}',
        json_schema_extra=_shorthand_schema,
    )
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = Field(
        None, description="how much effort Claude spends (output_config.effort)"
    )
    interleaved_thinking: bool | None = Field(
        None,
        description=f"think between tool calls with an enabled budget (beta {INTERLEAVED_BETA}); "
        "adaptive thinking does this by itself",
    )
    prompt_cache: bool = prompt_cache_field()

    @field_validator("thinking", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise setting_error('give a budget (2048), "adaptive", "disabled" or an object')
        if isinstance(value, int):
            return {"type": "enabled", "budget_tokens": value}
        if isinstance(value, str):
            return {"type": value}
        return value

    @model_validator(mode="after")
    def _thinking_rules(self) -> AnthropicConfig:
        thinking = self.thinking
        enabled = thinking is not None and thinking.type == "enabled"
        if self.interleaved_thinking and not enabled:
            raise setting_error(
                'interleaved_thinking needs thinking {"type": "enabled", "budget_tokens": ...} '
                "(adaptive thinking interleaves by itself)"
            )
        if thinking is None or not thinking.on:
            return self
        budget = thinking.budget_tokens
        if (
            budget is not None
            and self.max_tokens is not None
            and budget >= self.max_tokens
            and not self.interleaved_thinking
        ):
            raise setting_error(
                f"thinking budget_tokens ({budget}) must be less than max_tokens "
                f"({self.max_tokens}): raise max_tokens or lower the budget"
            )
        if self.temperature is not None and self.temperature != 1:
            raise setting_error("with thinking on, temperature must be 1 (or unset)")
        if self.top_p is not None and self.top_p < 0.95:
            raise setting_error("with thinking on, top_p must be unset or at least 0.95")
        if self.tool_choice not in (None, "auto", "none"):
            raise setting_error('with thinking on, tool_choice may only be "auto" or "none"')
        return self


def _choice(value: Any) -> dict[str, Any]:
    if value in ("auto", "none"):
        return {"type": value}
    if value == "required":
        return {"type": "any"}
    return {"type": "tool", "name": value}


class AnthropicChatModel(SDKChatModel["AsyncAnthropic"]):
    """A Claude model."""

    provider: ClassVar[str] = "anthropic"

    def _new_client(self) -> AsyncAnthropic:
        from anthropic import AsyncAnthropic

        config = self.config
        return AsyncAnthropic(
            api_key=self._secret,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            default_headers=config.extra_headers or None,
            http_client=self._http_client,
        )

    async def _close_client(self, client: AsyncAnthropic) -> None:
        await client.close()

    def _thinking(self, kwargs: dict[str, Any], settings: ModelSettings) -> bool:
        """Map the thinking settings into ``kwargs``; whether Claude may think in this request."""
        thinking = settings.get("thinking")
        effort = settings.get("effort")
        if effort:
            kwargs["output_config"] = {"effort": effort}
        if not thinking:
            return False
        if thinking.get("type") == "enabled" and lacks_thinking(kwargs["messages"]):
            # The tool call being answered came from a turn without Claude's thinking (another
            # provider before a fallback): the API requires thinking off for this request.
            log.debug("thinking off for this request: the answered turn has no thinking block")
            return False
        kwargs["thinking"] = thinking
        if settings.get("interleaved_thinking") and thinking.get("type") == "enabled":
            beta = self.config.extra_headers.get("anthropic-beta")
            kwargs["extra_headers"] = {
                "anthropic-beta": f"{beta},{INTERLEAVED_BETA}" if beta else INTERLEAVED_BETA
            }
        return thinking.get("type") != "disabled"

    def _kwargs(self, request: ModelRequest) -> tuple[dict[str, Any], str | None, bool]:
        settings: ModelSettings = self._settings(request)
        system, messages = anthropic_messages(request.messages, model=self.model)
        kwargs: dict[str, Any] = {"model": self.model, "messages": messages}
        if system:
            kwargs["system"] = system
        tools = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
        choice: dict[str, Any] | None = None
        serial = False
        extra: dict[str, Any] = {}
        kwargs["max_tokens"] = 4096
        thinking = self._thinking(kwargs, settings)
        for key, value in settings.items():
            if key == "max_tokens":
                kwargs["max_tokens"] = value
            elif key in ("temperature", "top_p"):
                extra[key] = value  # this SDK release has no argument for them; the API takes them
            elif key == "stop":
                kwargs["stop_sequences"] = value
            elif key == "tool_choice":
                choice = _choice(value)
            elif key == "parallel_tool_calls":
                serial = value is False
            elif key != "seed" and key not in REASONING_KEYS:
                extra[key] = (
                    value  # no seed in the Messages API; reasoning keys: mapped or not ours
                )
        output_name: str | None = None
        wrapped = False
        schema = request.output_schema
        if schema is not None and thinking:
            # A forced tool call is not allowed with thinking: use the native JSON output.
            config = kwargs.setdefault("output_config", {})
            config["format"] = {"type": "json_schema", "schema": schema.json_schema}
        elif schema is not None:
            tool, wrapped = output_tool(schema)
            output_name = tool["name"]
            # Force the answer tool; with other tools, force "some tool" so those stay callable.
            choice = {"type": "any"} if tools else {"type": "tool", "name": output_name}
            tools.append(tool)
        if serial and (choice is None or choice["type"] != "none"):
            choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
        if tools:
            kwargs["tools"] = tools
            if choice is not None:
                kwargs["tool_choice"] = choice
        if extra:
            kwargs["extra_body"] = extra
        if cast(AnthropicConfig, self.config).prompt_cache:
            add_cache_breakpoints(kwargs)
        return kwargs, output_name, wrapped

    async def _complete(self, client: AsyncAnthropic, request: ModelRequest) -> ModelResponse:
        kwargs, output_name, wrapped = self._kwargs(request)
        response = await client.messages.create(**kwargs)
        return read_message(response, self.model, output_name, wrapped)

    async def _stream(
        self, client: AsyncAnthropic, request: ModelRequest
    ) -> AsyncIterator[ModelStreamEvent]:
        kwargs, output_name, wrapped = self._kwargs(request)
        stream = await client.messages.create(**kwargs, stream=True)
        reader = StreamReader(self.model, output_name, wrapped)
        async with stream:
            request_id = stream.response.headers.get("request-id")
            async for event in stream:
                for out in reader.read(event):
                    yield out
        yield ResponseDone(reader.response(request_id))


class AnthropicHandler(ProviderHandler):
    """Registry entry ``anthropic``: ``get_chat_model("anthropic:claude-sonnet-4-5")``."""

    name = "anthropic"
    Config = AnthropicConfig
    sdk = "anthropic"
    extra = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"

    def create(self, model: str, config: ProviderConfig, **options: Any) -> AnthropicChatModel:
        secret = resolve_secret(options.get("api_key"), "ANTHROPIC_API_KEY", provider=self.name)
        return AnthropicChatModel(
            model,
            cast(AnthropicConfig, config),
            secret=secret,
            http_client=options.get("http_client"),
        )
