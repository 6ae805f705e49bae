"""The ``huggingface`` handler: Hugging Face inference through ``huggingface_hub.AsyncInferenceClient``.

Without ``base_url`` the call goes to Hugging Face's inference router with the model id and a
token (``api_key=`` or ``HF_TOKEN``). With ``base_url`` (a TGI server, an Inference Endpoint,
any OpenAI-compatible route such as ``http://host:8080/v1``) the token is optional. The wire
format is OpenAI Chat Completions, mapped by the code the ``openai`` handler uses.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import Field, SecretStr

from ..errors import UserError
from ._config import SETTING_KEYS, ChatConfig
from ._model import SDKChatModel
from ._openai_wire import ReasoningEffort, build_request, read_response, read_stream
from .base import ModelRequest, ModelResponse, ModelStreamEvent
from .registry import ProviderConfig, ProviderHandler

if TYPE_CHECKING:
    from huggingface_hub import AsyncInferenceClient

__all__ = ["HuggingFaceChatModel", "HuggingFaceConfig", "HuggingFaceHandler"]

_PARAMETERS = frozenset(
    {
        "messages",
        "tools",
        "tool_choice",
        "response_format",
        "max_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
    }
)


class HuggingFaceConfig(ChatConfig):
    """Config of the ``huggingface`` handler."""

    setting_keys: ClassVar[tuple[str, ...]] = (*SETTING_KEYS, "reasoning_effort")

    bill_to: str | None = Field(None, description="organization billed for the requests")
    reasoning_effort: ReasoningEffort | None = Field(
        None,
        description="reasoning models behind the router (gpt-oss, ...): how hard to think; sent "
        "as reasoning_effort, which the router passes on",
    )


class HuggingFaceChatModel(SDKChatModel["AsyncInferenceClient"]):
    """A model served through Hugging Face inference (or a TGI / OpenAI-compatible endpoint)."""

    provider: ClassVar[str] = "huggingface"

    def _new_client(self) -> AsyncInferenceClient:
        from huggingface_hub import AsyncInferenceClient

        config = cast(HuggingFaceConfig, self.config)
        client = AsyncInferenceClient(
            base_url=config.base_url,
            api_key=self._secret,
            timeout=config.timeout,
            headers=dict(config.extra_headers) or None,
            bill_to=config.bill_to,
        )
        if self._http_client is not None:
            client._async_client = self._http_client  # the SDK's own slot for its session
        return client

    async def _close_client(self, client: AsyncInferenceClient) -> None:
        await client.close()  # type: ignore[no-untyped-call]

    def _kwargs(self, request: ModelRequest) -> dict[str, Any]:
        kwargs = build_request(request, self._settings(request))
        extra = kwargs.pop("extra_body", {})
        for key in [k for k in kwargs if k not in _PARAMETERS]:
            extra[key] = kwargs.pop(
                key
            )  # parallel_tool_calls and others the SDK has no argument for
        if extra:
            kwargs["extra_body"] = extra
        kwargs["model"] = self.model
        return kwargs

    async def _complete(self, client: AsyncInferenceClient, request: ModelRequest) -> ModelResponse:
        response = await cast(Any, client).chat_completion(**self._kwargs(request))
        return read_response(response, None, provider=self.provider, model=self.model)

    async def _stream(
        self, client: AsyncInferenceClient, request: ModelRequest
    ) -> AsyncIterator[ModelStreamEvent]:
        chunks = await cast(Any, client).chat_completion(
            **self._kwargs(request), stream=True, stream_options={"include_usage": True}
        )
        try:
            async for event in read_stream(
                chunks, None, provider=self.provider, model_name=self.model
            ):
                yield event
        finally:
            await chunks.aclose()  # an abandoned stream releases its connection now, not at GC


class HuggingFaceHandler(ProviderHandler):
    """Registry entry ``huggingface``: ``get_chat_model("huggingface:meta-llama/Llama-3.1-8B-Instruct")``."""

    name = "huggingface"
    Config = HuggingFaceConfig
    sdk = "huggingface_hub"
    extra = "huggingface"
    api_key_env = "HF_TOKEN"

    def create(self, model: str, config: ProviderConfig, **options: Any) -> HuggingFaceChatModel:
        cfg = cast(HuggingFaceConfig, config)
        key = options.get("api_key")
        if isinstance(key, SecretStr):
            key = key.get_secret_value()
        key = key or os.environ.get("HF_TOKEN") or None
        if key is None and cfg.base_url is None:
            raise UserError(
                "No API key for provider 'huggingface': pass api_key=... or set HF_TOKEN "
                "(a token is optional only with base_url= pointing at your own endpoint)"
            )
        return HuggingFaceChatModel(model, cfg, secret=key, http_client=options.get("http_client"))
