"""The ``openai`` handler: OpenAI Chat Completions or the Responses API through the ``openai`` SDK.

Also the base of the ``azure_openai`` handler. ``get_chat_model("openai:gpt-4o-mini")`` reads the
key from ``OPENAI_API_KEY`` unless ``api_key=`` is given; any OpenAI-compatible server (vLLM,
LM Studio, llama.cpp) works with ``base_url=``. ``api="responses"`` uses the Responses API
(reasoning items carried between calls, see :mod:`._openai_responses`); ``transport="lean"``
skips the SDK on the request path (see :mod:`._openai_lean`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ..errors import UserError
from ._config import resolve_secret
from ._model import SDKChatModel
from ._openai_responses import ResponsesStreamReader, build_responses_request, read_responses
from ._openai_wire import (
    OpenAIAPIConfig,
    OpenAIConfig,
    build_request,
    prompt_cache_key,
    read_response,
    read_stream,
)
from .base import ModelRequest, ModelResponse, ModelStreamEvent, ResponseDone
from .registry import ProviderConfig, ProviderHandler

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = ["OpenAIChatModel", "OpenAIConfig", "OpenAIHandler"]


class OpenAIChatModel(SDKChatModel["AsyncOpenAI"]):
    """An OpenAI (or OpenAI-compatible) chat model, on Chat Completions or the Responses API."""

    provider: ClassVar[str] = "openai"
    max_tokens_key: ClassVar[str] = "max_completion_tokens"

    @property
    def _responses(self) -> bool:
        return cast(OpenAIAPIConfig, self.config).api == "responses"

    def _new_client(self) -> AsyncOpenAI:
        from openai import AsyncOpenAI

        config = cast(OpenAIConfig, self.config)
        return AsyncOpenAI(
            api_key=self._secret,
            organization=config.organization,
            project=config.project,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            default_headers=config.extra_headers or None,
            http_client=self._http_client,
        )

    async def _close_client(self, client: AsyncOpenAI) -> None:
        await client.close()

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        kwargs = build_request(request, self._settings(request), max_tokens_key=self.max_tokens_key)
        kwargs["model"] = self.model
        key = prompt_cache_key(request, self.config)
        if key:
            kwargs["prompt_cache_key"] = key
        return kwargs

    def _responses_kwargs(self, request: ModelRequest) -> dict[str, Any]:
        kwargs = build_responses_request(
            request,
            self._settings(request),
            provider=self.provider,
            model=self.model,
            store=cast(OpenAIAPIConfig, self.config).store,
        )
        key = prompt_cache_key(request, self.config)
        if key:
            kwargs["prompt_cache_key"] = key
        return kwargs

    async def _complete(self, client: AsyncOpenAI, request: ModelRequest) -> ModelResponse:
        if self._responses:
            answer = await client.responses.create(**self._responses_kwargs(request))
            return read_responses(
                answer, answer._request_id, provider=self.provider, model=self.model
            )
        response = await client.chat.completions.create(**self._kwargs(request))
        return read_response(
            response, response._request_id, provider=self.provider, model=self.model
        )

    async def _stream(
        self, client: AsyncOpenAI, request: ModelRequest
    ) -> AsyncIterator[ModelStreamEvent]:
        if self._responses:
            async for event in self._stream_responses(client, request):
                yield event
            return
        kwargs = self._kwargs(request)
        stream = await client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        async with stream:
            request_id = stream.response.headers.get("x-request-id")
            async for event in read_stream(
                stream, request_id, provider=self.provider, model_name=self.model
            ):
                yield event

    async def _stream_responses(
        self, client: AsyncOpenAI, request: ModelRequest
    ) -> AsyncIterator[ModelStreamEvent]:
        stream = await client.responses.create(**self._responses_kwargs(request), stream=True)
        async with stream:
            reader = ResponsesStreamReader(
                self.provider, self.model, stream.response.headers.get("x-request-id")
            )
            async for api_event in stream:
                for event in reader.read(api_event):
                    yield event
        yield ResponseDone(reader.response())


class OpenAIHandler(ProviderHandler):
    """Registry entry ``openai``: ``get_chat_model("openai:gpt-4o-mini", temperature=0.2)``."""

    name = "openai"
    Config = OpenAIConfig
    sdk = "openai"
    extra = "openai"
    api_key_env = "OPENAI_API_KEY"

    def create(self, model: str, config: ProviderConfig, **options: Any) -> SDKChatModel[Any]:
        cfg = cast(OpenAIConfig, config)
        secret = resolve_secret(options.get("api_key"), "OPENAI_API_KEY", provider=self.name)
        if cfg.transport == "lean":
            if cfg.max_retries:
                raise UserError(
                    "transport='lean' does not retry: set max_retries=0 and add the retry "
                    "middleware, or use transport='sdk'"
                )
            from ._openai_lean import OpenAILeanChatModel

            return OpenAILeanChatModel(
                model, cfg, secret=secret, http_client=options.get("http_client")
            )
        return OpenAIChatModel(
            model,
            cfg,
            secret=secret,
            http_client=options.get("http_client"),
        )
