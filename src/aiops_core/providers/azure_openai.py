"""The ``azure_openai`` handler: Azure OpenAI deployments through the ``openai`` SDK.

``get_chat_model("azure_openai:my-deployment")`` reads ``AZURE_OPENAI_API_KEY``,
``AZURE_OPENAI_ENDPOINT`` and ``OPENAI_API_VERSION`` unless ``api_key=``, ``endpoint=`` and
``api_version=`` are given. The model part of the spec is the deployment name unless
``deployment=`` is set. ``api="responses"`` calls ``{endpoint}/openai/responses`` with the
deployment as the model.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic import Field

from ..errors import UserError
from ._config import ChatConfig, resolve_secret
from ._openai_wire import OpenAIAPIConfig
from .openai import OpenAIChatModel
from .registry import ProviderConfig, ProviderHandler

if TYPE_CHECKING:
    from openai import AsyncAzureOpenAI

__all__ = ["AzureOpenAIChatModel", "AzureOpenAIConfig", "AzureOpenAIHandler"]

# The first api-version (2024-09-01-preview) that takes max_completion_tokens; GA 2024-10-21 on.
_COMPLETION_TOKENS_SINCE = "2024-09-01"


class AzureOpenAIConfig(OpenAIAPIConfig):
    """Config of the ``azure_openai`` handler (``api="responses"``: the deployment's Responses API)."""

    endpoint: str | None = Field(
        None, description="https://<resource>.openai.azure.com (default: AZURE_OPENAI_ENDPOINT)"
    )
    api_version: str | None = Field(
        None, description="API version, e.g. 2024-10-21 (default: OPENAI_API_VERSION)"
    )
    deployment: str | None = Field(None, description="deployment name (default: the model name)")
    organization: str | None = Field(None, description="OpenAI organization id")
    project: str | None = Field(None, description="OpenAI project id")


class AzureOpenAIChatModel(OpenAIChatModel):
    """A chat model served by an Azure OpenAI deployment."""

    provider: ClassVar[str] = "azure_openai"

    def __init__(
        self,
        model: str,
        config: ChatConfig,
        *,
        secret: str | None = None,
        http_client: Any = None,
        azure_ad_token_provider: Callable[[], str | Awaitable[str]] | None = None,
    ) -> None:
        self._token_provider = azure_ad_token_provider
        super().__init__(model, config, secret=secret, http_client=http_client)

    @property
    def max_tokens_key(self) -> str:  # type: ignore[override]
        """``max_completion_tokens`` from api-version 2024-09-01 on (reasoning deployments refuse
        ``max_tokens``); older api-versions only know ``max_tokens``."""
        config = cast(AzureOpenAIConfig, self.config)
        if (
            config.reasoning_effort is not None
            or (config.api_version or "") >= _COMPLETION_TOKENS_SINCE
        ):
            return "max_completion_tokens"
        return "max_tokens"

    def _new_client(self) -> AsyncAzureOpenAI:
        from openai import AsyncAzureOpenAI

        config = cast(AzureOpenAIConfig, self.config)
        return AsyncAzureOpenAI(
            api_key=self._secret,
            azure_ad_token_provider=self._token_provider,
            azure_endpoint=cast(str, config.endpoint),  # set by the handler
            api_version=config.api_version,
            azure_deployment=config.deployment or self.model,
            organization=config.organization,
            project=config.project,
            timeout=config.timeout,
            max_retries=config.max_retries,
            default_headers=config.extra_headers or None,
            http_client=self._http_client,
        )

    def __repr__(self) -> str:
        config = cast(AzureOpenAIConfig, self.config)
        return f"{type(self).__name__}(model={self.model!r}, endpoint={config.endpoint!r})"


def _setting(value: str | None, env_var: str, key: str) -> str:
    value = value or os.environ.get(env_var)
    if not value:
        raise UserError(f"Provider 'azure_openai' needs {key}=... in its config or {env_var} set")
    return value


class AzureOpenAIHandler(ProviderHandler):
    """Registry entry ``azure_openai``: ``get_chat_model("azure_openai:<deployment>")``."""

    name = "azure_openai"
    Config = AzureOpenAIConfig
    sdk = "openai"
    extra = "openai"
    api_key_env = "AZURE_OPENAI_API_KEY"
    options = frozenset({"api_key", "http_client", "azure_ad_token_provider"})
    """``azure_ad_token_provider``: a callable returning an Entra ID token (no key needed then)."""

    def create(self, model: str, config: ProviderConfig, **options: Any) -> AzureOpenAIChatModel:
        cfg = cast(AzureOpenAIConfig, config)
        token_provider = options.get("azure_ad_token_provider")
        secret = (
            None
            if token_provider is not None and not options.get("api_key")
            else resolve_secret(options.get("api_key"), "AZURE_OPENAI_API_KEY", provider=self.name)
        )
        endpoint = cfg.endpoint or cfg.base_url
        update = {
            "endpoint": _setting(endpoint, "AZURE_OPENAI_ENDPOINT", "endpoint"),
            "api_version": _setting(cfg.api_version, "OPENAI_API_VERSION", "api_version"),
        }
        if not model and not cfg.deployment:
            raise UserError("Name the deployment: get_chat_model('azure_openai:<deployment>')")
        return AzureOpenAIChatModel(
            model or cast(str, cfg.deployment),
            cfg.model_copy(update=update),
            secret=secret,
            http_client=options.get("http_client"),
            azure_ad_token_provider=token_provider,
        )
