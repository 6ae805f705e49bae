"""Is the default model's provider reachable? One cheap, unauthenticated request, cached.

The probe sends ``GET`` to the provider's API base URL (the model's or provider's ``base_url``,
``endpoint`` or ``host``, else the provider's public default) without credentials: any HTTP
answer, even 401 or 404, means the provider is reachable; a connection error or a timeout means
it is not. Nothing secret is sent, and the answer names the host with the URL masked. The result
is cached for :data:`CACHE_SECONDS` so that scraping ``/health/`` does not call the provider on
every scrape. In-process providers (``test``, ``function``) are reachable by definition.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = ["CACHE_SECONDS", "ProviderProbe", "probe_default_provider"]

CACHE_SECONDS = 60
PROBE_TIMEOUT = 5.0
_CACHE_KEY = "aiops_nautobot:provider_health"

_LOCAL = frozenset({"test", "function"})
_DEFAULT_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "huggingface": "https://router.huggingface.co/v1",
}
_ENV_URLS = {
    "ollama": ("OLLAMA_HOST", "http://127.0.0.1:11434"),
    "azure_openai": ("AZURE_OPENAI_ENDPOINT", None),
}
_URL_KEYS = ("base_url", "endpoint", "host")


@dataclass(frozen=True, slots=True)
class ProviderProbe:
    """The outcome: ``ok``, and what to tell the operator (never a secret)."""

    ok: bool
    message: str


def _url(provider: str, options: dict[str, Any]) -> str | None:
    for key in _URL_KEYS:
        value = options.get(key)
        if isinstance(value, str) and value:
            return value
    if provider in _ENV_URLS:
        variable, fallback = _ENV_URLS[provider]
        return os.environ.get(variable) or fallback
    return _DEFAULT_URLS.get(provider)


def _probe() -> ProviderProbe:
    import httpx

    from aiops_core.errors import UserError
    from aiops_core.masking import mask_url

    from ..choices import EnvironmentChoices
    from ..settings import get_settings
    from .model_choice import environment_choice, model_choice, resolve_model

    try:
        row = resolve_model(None)
        if row is not None:
            choice = model_choice(row)
        elif get_settings().environment == EnvironmentChoices.LAB:
            choice = environment_choice()
        else:
            return ProviderProbe(False, "no default LLM model: mark one default under LLM Models")
    except UserError as err:  # disabled provider, unreadable secret, URL outside the policy
        return ProviderProbe(False, str(err))
    provider = choice.spec.partition(":")[0]
    if provider in _LOCAL:
        return ProviderProbe(True, f"{choice.spec}: in-process provider")
    url = _url(provider, dict(choice.options))
    if url is None:
        return ProviderProbe(False, f"{choice.spec}: no API URL is configured (set base_url)")
    where = mask_url(url)
    try:
        with httpx.Client(timeout=PROBE_TIMEOUT, follow_redirects=False) as client:
            answer = client.get(url)
    except httpx.TimeoutException:
        return ProviderProbe(False, f"{choice.spec} at {where}: no answer in {PROBE_TIMEOUT:g}s")
    except httpx.HTTPError as err:
        return ProviderProbe(False, f"{choice.spec} at {where}: {type(err).__name__}")
    return ProviderProbe(True, f"{choice.spec} at {where}: HTTP {answer.status_code}")


def probe_default_provider(*, use_cache: bool = True) -> ProviderProbe:
    """Probe the default model's provider (sync), or return the result of the last
    :data:`CACHE_SECONDS` seconds."""
    from django.core.cache import cache

    if use_cache:
        cached = cache.get(_CACHE_KEY)
        if cached is not None:
            return ProviderProbe(*cached)
    result = _probe()
    cache.set(_CACHE_KEY, (result.ok, result.message), CACHE_SECONDS)
    return result
