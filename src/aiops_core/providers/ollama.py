"""The ``ollama`` handler: local models through the official ``ollama`` SDK (``/api/chat``).

The host comes from ``base_url=``, else ``OLLAMA_HOST``, else ``http://127.0.0.1:11434``. No key
is needed; ``api_key=`` (for an authenticating proxy or ollama.com) is sent as a bearer token.
Tool-call arguments travel as JSON objects; Ollama gives calls no ids, so ids are generated.
Structured output uses Ollama's native ``format`` (a JSON schema). ``think=True`` (or ``"low"``,
``"medium"``, ``"high"`` for models with levels, such as gpt-oss) turns thinking on for models
that have it; the ``thinking`` text arrives as a thinking part (streamed as thinking deltas) and
goes back with its assistant message, to Ollama only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from pydantic import Field, SecretStr

from ..errors import MessageError
from ..messages import (
    AssistantMessage,
    DataPart,
    ImagePart,
    Message,
    SystemMessage,
    TextPart,
    ThinkingPart,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)
from ._config import SETTING_KEYS, ChatConfig
from ._model import SDKChatModel
from ._thinking import own_thinking, turn_start
from .base import (
    ModelRequest,
    ModelResponse,
    ModelStreamEvent,
    ResponseDone,
    StreamAccumulator,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    parse_arguments,
)
from .registry import ProviderConfig, ProviderHandler

if TYPE_CHECKING:
    from ollama import AsyncClient

__all__ = ["OllamaChatModel", "OllamaConfig", "OllamaHandler", "ollama_messages"]

_OPTION_KEYS = {"temperature": "temperature", "top_p": "top_p", "stop": "stop", "seed": "seed"}


class OllamaConfig(ChatConfig):
    """Config of the ``ollama`` handler."""

    setting_keys: ClassVar[tuple[str, ...]] = (*SETTING_KEYS, "think")

    think: bool | Literal["low", "medium", "high"] | None = Field(
        None,
        description="thinking models: true/false, or a level (low, medium, high) where the "
        "model has levels",
    )
    keep_alive: float | str | None = Field(
        None, description="how long the model stays loaded after a call (e.g. '5m')"
    )
    num_ctx: int | None = Field(None, ge=1, description="context window size in tokens")
    options: dict[str, Any] = Field(
        default_factory=dict, description="further Ollama model options (num_gpu, mirostat, ...)"
    )


def _user(content: str | Sequence[Any]) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "user", "content": content}
    texts: list[str] = []
    images: list[str] = []
    for part in content:
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, DataPart):
            texts.append(json.dumps(part.data, default=str))
        elif isinstance(part, ImagePart):
            if part.data is None:
                raise MessageError(
                    "Ollama takes images as base64 data, not URLs: pass ImagePart(data=...)"
                )
            images.append(part.data)
    item: dict[str, Any] = {"role": "user", "content": "\n".join(texts)}
    if images:
        item["images"] = images
    return item


def _ollama_message(message: Message, thinking: list[ThinkingPart]) -> dict[str, Any]:
    """One message in ``/api/chat`` form (tool-call arguments as objects)."""
    match message:
        case SystemMessage():
            return {"role": "system", "content": message.content}
        case UserMessage():
            return _user(message.content)
        case AssistantMessage():
            item: dict[str, Any] = {"role": "assistant", "content": message.content}
            text = "\n\n".join(part.text for part in thinking if part.text)
            if text:
                item["thinking"] = text
            if message.tool_calls:
                item["tool_calls"] = [
                    {"function": {"name": c.name, "arguments": c.arguments}}
                    for c in message.tool_calls
                ]
            return item
        case ToolResultMessage():
            return {"role": "tool", "content": message.text, "tool_name": message.name}


def ollama_messages(
    messages: Sequence[Message], *, model: str | None = None
) -> list[dict[str, Any]]:
    """Messages in ``/api/chat`` form (tool-call arguments as objects).

    An assistant message's Ollama thinking goes back as its ``thinking`` (see
    :mod:`._thinking` for which); other providers' thinking is left out.
    """
    current = turn_start(messages)
    out = []
    for index, message in enumerate(messages):
        thinking = (
            own_thinking(message, "ollama", model, current=index >= current)
            if isinstance(message, AssistantMessage)
            else []
        )
        out.append(_ollama_message(message, thinking))
    return out


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:16]}"


class OllamaChatModel(SDKChatModel["AsyncClient"]):
    """A model served by Ollama."""

    provider: ClassVar[str] = "ollama"

    def _new_client(self) -> AsyncClient:
        from ollama import AsyncClient

        config = cast(OllamaConfig, self.config)
        headers = dict(config.extra_headers)
        if self._secret:
            headers["Authorization"] = f"Bearer {self._secret}"
        client = AsyncClient(host=config.base_url, timeout=config.timeout, headers=headers)
        if self._http_client is not None:
            # The SDK builds its own httpx client; swap in the injected one (requests use
            # relative paths, so it needs the host as its base URL).
            if not str(self._http_client.base_url):
                self._http_client.base_url = client._client.base_url
            self._http_client.headers.update(client._client.headers)
            client._client = self._http_client
        return client

    async def _close_client(self, client: AsyncClient) -> None:
        await client._client.aclose()

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        config = cast(OllamaConfig, self.config)
        settings = self._settings(request)
        options: dict[str, Any] = dict(config.options)
        if config.num_ctx:
            options["num_ctx"] = config.num_ctx
        for key, value in settings.items():
            if key in _OPTION_KEYS:
                options[_OPTION_KEYS[key]] = value
            elif key == "max_tokens":
                options["num_predict"] = value
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": ollama_messages(request.messages, model=self.model),
        }
        think = settings.get("think")
        if think is not None:
            kwargs["think"] = think
        if request.tools and settings.get("tool_choice") != "none":
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
        if options:
            kwargs["options"] = options
        if config.keep_alive is not None:
            kwargs["keep_alive"] = config.keep_alive
        if request.output_schema is not None:
            kwargs["format"] = request.output_schema.json_schema
        return kwargs

    async def _complete(self, client: AsyncClient, request: ModelRequest) -> ModelResponse:
        response = await client.chat(**self._kwargs(request))
        message = response.message
        calls: list[ToolCall] = [
            parse_arguments(_call_id(), c.function.name, cast(Any, c.function.arguments))
            for c in message.tool_calls or ()
        ]
        thinking = (
            [ThinkingPart(text=message.thinking, provider=self.provider, model=self.model)]
            if message.thinking
            else []
        )
        return ModelResponse(
            message=AssistantMessage(
                content=message.content or "", tool_calls=calls, thinking=thinking
            ),
            usage=Usage(
                input_tokens=response.prompt_eval_count or 0,
                output_tokens=response.eval_count or 0,
                requests=1,
            ),
            finish_reason="tool_calls" if calls else response.done_reason,
            model=response.model,
        )

    async def _stream(
        self, client: AsyncClient, request: ModelRequest
    ) -> AsyncIterator[ModelStreamEvent]:
        chunks = await client.chat(**self._kwargs(request), stream=True)
        acc = StreamAccumulator(self.provider, self.model)
        index = 0
        last: Any = None
        try:
            async for chunk in chunks:
                last = chunk
                message = chunk.message
                if message.thinking:
                    thinking_event = ThinkingDelta(message.thinking)
                    acc.add(thinking_event)
                    yield thinking_event
                if message.content:
                    text_event = TextDelta(message.content)
                    acc.add(text_event)
                    yield text_event
                for call in message.tool_calls or ():
                    call_event = ToolCallDelta(
                        index, _call_id(), call.function.name, json.dumps(call.function.arguments)
                    )
                    index += 1
                    acc.add(call_event)
                    yield call_event
        finally:
            await cast(Any, chunks).aclose()  # an abandoned stream releases its connection now
        message_out = acc.message()
        yield ResponseDone(
            ModelResponse(
                message=message_out,
                usage=Usage(
                    input_tokens=(last.prompt_eval_count or 0) if last is not None else 0,
                    output_tokens=(last.eval_count or 0) if last is not None else 0,
                    requests=1,
                ),
                finish_reason="tool_calls"
                if message_out.tool_calls
                else (last.done_reason if last is not None else None),
                model=last.model if last is not None else None,
            )
        )


class OllamaHandler(ProviderHandler):
    """Registry entry ``ollama``: ``get_chat_model("ollama:llama3.2")``."""

    name = "ollama"
    Config = OllamaConfig
    sdk = "ollama"
    extra = "ollama"
    api_key_env = None

    def create(self, model: str, config: ProviderConfig, **options: Any) -> OllamaChatModel:
        key = options.get("api_key")
        if isinstance(key, SecretStr):
            key = key.get_secret_value()
        return OllamaChatModel(
            model,
            cast(OllamaConfig, config),
            secret=key or None,
            http_client=options.get("http_client"),
        )
