"""The config schema shared by the SDK-backed handlers, and credential lookup.

Each handler's ``Config`` subclasses :class:`ChatConfig`: connection settings (base URL, timeout,
SDK-level retries, extra headers) plus default model parameters. Request-level
``ModelRequest.settings`` override the model parameters set here.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_core import PydanticCustomError

from ..errors import UserError
from .base import ModelSettings
from .registry import ProviderConfig

__all__ = [
    "SETTING_KEYS",
    "ChatConfig",
    "prompt_cache_field",
    "resolve_secret",
    "setting_error",
]

SETTING_KEYS = (
    "temperature",
    "max_tokens",
    "top_p",
    "stop",
    "seed",
    "tool_choice",
    "parallel_tool_calls",
)
"""Config fields that are model parameters (the keys of :class:`ModelSettings`)."""


class ChatConfig(ProviderConfig):
    """Connection settings and default model parameters of an SDK-backed handler.

    ``setting_keys`` names the fields that are model parameters; a handler with more (its
    reasoning settings) extends it.
    """

    setting_keys: ClassVar[tuple[str, ...]] = SETTING_KEYS

    base_url: str | None = Field(None, description="API base URL (default: the provider's own)")
    timeout: float = Field(60.0, gt=0, description="seconds before a request is abandoned")
    max_retries: int = Field(
        0, ge=0, le=10, description="SDK-level retries (keep 0: the retry middleware retries)"
    )
    extra_headers: dict[str, str] = Field(
        default_factory=dict, description="HTTP headers added to every request"
    )
    temperature: float | None = Field(None, ge=0, le=2, description="sampling temperature")
    max_tokens: int | None = Field(None, ge=1, description="most tokens in the answer")
    top_p: float | None = Field(None, gt=0, le=1, description="nucleus sampling mass")
    stop: list[str] | None = Field(None, description="stop sequences")
    seed: int | None = Field(None, description="sampling seed, where the provider supports it")
    tool_choice: Literal["auto", "none", "required"] | str | None = Field(
        None, description='"auto", "none", "required" or the name of a tool to force'
    )
    parallel_tool_calls: bool | None = Field(
        None, description="allow several tool calls in one answer"
    )

    def model_settings(self) -> ModelSettings:
        """The model parameters that are set, as request settings."""
        values: dict[str, Any] = {}
        for key in self.setting_keys:
            value = getattr(self, key)
            if isinstance(value, BaseModel):
                value = value.model_dump(exclude_none=True)
            if value is not None:
                values[key] = value
        return values  # type: ignore[return-value]


def prompt_cache_field() -> Any:
    """The ``prompt_cache`` switch of the handlers whose provider caches prompts at no cost."""
    return Field(
        True,
        description="ask the provider to cache the repeated request prefix (cheaper, faster "
        "turns; false: send requests without cache hints)",
    )


def setting_error(message: str) -> PydanticCustomError:
    """A config validator's error, shown as ``message`` alone (no "Value error," prefix)."""
    return PydanticCustomError("invalid_setting", message)


def resolve_secret(explicit: str | SecretStr | None, env_var: str, *, provider: str) -> str:
    """The explicit key, else the environment variable; a :class:`UserError` names both ways."""
    if isinstance(explicit, SecretStr):
        explicit = explicit.get_secret_value()
    if explicit:
        return explicit
    value = os.environ.get(env_var)
    if value:
        return value
    raise UserError(f"No API key for provider {provider!r}: pass api_key=... or set {env_var}")
