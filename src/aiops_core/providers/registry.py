"""The provider-handler registry and ``"provider:model"`` resolution.

Handlers are looked up by name. Built-ins are listed as lazy import paths so that resolving
``"test"`` never imports an SDK; third-party handlers register in code with
:func:`register_provider` or through the entry-point group ``aiops_core.providers``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .._registry import Registry
from ..errors import UserError, format_validation_error
from .base import ChatModel

__all__ = [
    "HandlerInfo",
    "ProviderConfig",
    "ProviderHandler",
    "get_chat_model",
    "get_provider",
    "list_providers",
    "provider_names",
    "provider_registry",
    "register_provider",
]

ENTRY_POINT_GROUP = "aiops_core.providers"


class ProviderConfig(BaseModel):
    """Base of every handler's config schema: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class ProviderHandler:
    """Base class of provider handlers.

    Subclasses set :attr:`name`, :attr:`Config` (a :class:`ProviderConfig` subclass) and
    :attr:`sdk` (the import name of the SDK, or ``None``), and implement :meth:`create`.
    """

    name: ClassVar[str] = ""
    Config: ClassVar[type[ProviderConfig]] = ProviderConfig
    sdk: ClassVar[str | None] = None
    extra: ClassVar[str | None] = None
    """The pip extra that installs the SDK (``aiops[extra]``)."""
    api_key_env: ClassVar[str | None] = None
    options: ClassVar[frozenset[str]] = frozenset({"api_key", "http_client"})
    """Keyword options passed to :meth:`create` instead of the config (credentials, clients)."""

    @classmethod
    def sdk_installed(cls) -> bool:
        return cls.sdk is None or importlib.util.find_spec(cls.sdk) is not None

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        """JSON Schema of the handler's config."""
        return cls.Config.model_json_schema()

    @classmethod
    def parse_config(cls, values: Mapping[str, Any]) -> ProviderConfig:
        """Validate config values, raising :class:`UserError` that names the field."""
        try:
            return cls.Config.model_validate(dict(values))
        except ValidationError as err:
            problems = format_validation_error(err, root="config")
            raise UserError(f"Invalid {cls.name or 'provider'} config: {problems}") from None

    def create(self, model: str, config: ProviderConfig, **options: Any) -> ChatModel:
        """Build a chat model for ``model`` with a validated config."""
        raise NotImplementedError


provider_registry: Registry[ProviderHandler] = Registry(
    "provider",
    base=ProviderHandler,
    group=ENTRY_POINT_GROUP,
    builtins={
        "test": "aiops_core.providers.test:TestHandler",
        "function": "aiops_core.providers.function:FunctionHandler",
        "openai": "aiops_core.providers.openai:OpenAIHandler",
        "azure_openai": "aiops_core.providers.azure_openai:AzureOpenAIHandler",
        "anthropic": "aiops_core.providers.anthropic:AnthropicHandler",
        "ollama": "aiops_core.providers.ollama:OllamaHandler",
        "huggingface": "aiops_core.providers.huggingface:HuggingFaceHandler",
    },
    forbidden=":",
)
"""Provider handlers by name: built-ins, the ``aiops_core.providers`` entry points, and
:func:`register_provider` (tests: ``with provider_registry.override({...}):``)."""


def register_provider(name: str, handler: type[ProviderHandler] | str) -> None:
    """Register a handler class (or a ``"module:Class"`` path) under ``name``."""
    provider_registry.register(name, handler)


def get_provider(name: str) -> type[ProviderHandler]:
    """The handler class registered under ``name``.

    Raises:
        UnknownNameError: no such provider (the message suggests the closest).
        RegistryLoadError: the handler's module cannot be imported.
    """
    return provider_registry.get(name)


def provider_names() -> list[str]:
    """Names of every registered handler, without importing any of them."""
    return provider_registry.names()


@dataclass(frozen=True)
class HandlerInfo:
    """One row of :func:`list_providers`."""

    name: str
    installed: bool
    sdk: str | None
    config_schema: dict[str, Any]


def list_providers() -> list[HandlerInfo]:
    """Every registered handler with whether its SDK is installed and its config schema."""
    return [
        HandlerInfo(name, handler.sdk_installed(), handler.sdk, handler.config_schema())
        for name, handler in provider_registry.load_all().items()
    ]


def get_chat_model(spec: str | ChatModel, **options: Any) -> ChatModel:
    """Resolve ``"provider:model"`` (or ``"test"``) to a chat model.

    Keyword options are the handler's config keys (validated against its schema) plus
    ``api_key`` and ``http_client``, which handlers take separately.
    """
    if not isinstance(spec, str):
        return spec
    provider, _, model = spec.partition(":")
    handler_cls = get_provider(provider.strip())
    if not handler_cls.sdk_installed():
        raise UserError(
            f"Provider {provider!r} needs the {handler_cls.sdk!r} package: "
            f"pip install 'aiops[{handler_cls.extra or provider}]'"
        )
    special = {k: options.pop(k) for k in handler_cls.options if k in options}
    config = handler_cls.parse_config(options)
    return handler_cls().create(model.strip(), config, **special)
