"""The base of SDK-backed chat models: naming, client lifecycle and the error boundary."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import SecretStr

from ..errors import ProviderError, UserError
from ..masking import Scrubber, is_secret_name
from ..testing import check_model_request
from ._clients import LoopClients
from ._config import ChatConfig
from ._errors import map_error
from .base import ModelRequest, ModelResponse, ModelSettings, ModelStreamEvent

__all__ = ["SDKChatModel"]

C = TypeVar("C")


class SDKChatModel(Generic[C]):
    """A :class:`~aiops_core.providers.base.ChatModel` backed by a provider SDK client.

    Subclasses implement :meth:`_new_client`, :meth:`_close_client`, :meth:`_complete` and
    :meth:`_stream`. Clients are created lazily, one per running event loop, unless an
    ``http_client`` was injected (then one SDK client wraps it and the caller owns it).

    Args:
        model: the provider's model (or Azure deployment) name.
        config: the handler's validated config.
        secret: the API key (kept out of reprs and scrubbed from errors, as are the values of
            secret-named ``extra_headers``).
        http_client: an injected HTTP client.
    """

    provider: ClassVar[str] = ""

    def __init__(
        self,
        model: str,
        config: ChatConfig,
        *,
        secret: str | None = None,
        http_client: Any = None,
    ) -> None:
        if not model:
            raise UserError(f"Name the model: get_chat_model('{self.provider}:<model>')")
        self.model = model
        self.config = config
        self._key = SecretStr(secret) if secret else None  # masked in vars() and debuggers
        headers = config.extra_headers.items()
        self._scrub = Scrubber([secret, *(v for k, v in headers if is_secret_name(k))])
        self._http_client = http_client
        self._defaults: ModelSettings = config.model_settings()
        self._clients: LoopClients[C] = LoopClients(self._new_client, self._close_client)
        self._injected: C | None = self._new_client() if http_client is not None else None

    @property
    def _secret(self) -> str | None:
        return self._key.get_secret_value() if self._key is not None else None

    @property
    def name(self) -> str:
        """``provider:model``."""
        return f"{self.provider}:{self.model}"

    @property
    def default_settings(self) -> ModelSettings:
        """The model parameters set in the config (request settings override them)."""
        return self._defaults

    def __repr__(self) -> str:
        where = f", base_url={self.config.base_url!r}" if self.config.base_url else ""
        return f"{type(self).__name__}(model={self.model!r}{where})"

    # -------------------------------------------------------------------- for subclasses
    def _new_client(self) -> C:
        raise NotImplementedError

    async def _close_client(self, client: C) -> None:
        raise NotImplementedError

    async def _complete(self, client: C, request: ModelRequest) -> ModelResponse:
        raise NotImplementedError

    def _stream(self, client: C, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        raise NotImplementedError

    def _settings(self, request: ModelRequest) -> ModelSettings:
        """Config-level parameters overridden by the request's settings."""
        if not request.settings:
            return self._defaults
        if not self._defaults:
            return request.settings
        return {**self._defaults, **request.settings}

    # -------------------------------------------------------------------- ChatModel
    async def _client(self) -> C:
        if self._injected is not None:
            return self._injected
        return await self._clients.get()

    def _translate(self, err: Exception) -> ProviderError | None:
        """The typed error for a foreign one; ``None`` when ``err`` should pass unchanged."""
        if isinstance(err, (ProviderError, UserError)):
            return None
        return map_error(err, provider=self.provider, scrub=self._scrub)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """One request, one complete answer."""
        check_model_request(self.name)
        try:
            client = await self._client()
            return await self._complete(client, request)
        except Exception as err:
            self._raise_mapped(err)
            raise

    async def stream(self, request: ModelRequest) -> AsyncIterator[ModelStreamEvent]:
        """Text and tool-call deltas as they arrive, then one ``ResponseDone``."""
        check_model_request(self.name)
        try:
            client = await self._client()
            async for event in self._stream(client, request):
                yield event
        except Exception as err:
            self._raise_mapped(err)
            raise

    def _raise_mapped(self, err: Exception) -> None:
        """Raise the typed error for a foreign one; return when it has none (caller re-raises)."""
        mapped = self._translate(err)
        if mapped is None:
            return
        if self._scrub.leaks(err):
            raise mapped from None  # do not chain an error that carries the key
        raise mapped from err

    async def aclose(self) -> None:
        """Close the connection pool of the current event loop (an injected client is the caller's)."""
        await self._clients.aclose()
