"""The security keys of ``PLUGINS_CONFIG["aiops_nautobot"]``, parsed and validated.

``stdio_commands``, ``allowed_urls`` and ``token_forwarding_prefixes`` are the operator's bounds
on what configuration rows may make the app do (run a process, contact a host, forward a user's
token). :func:`aiops_nautobot.settings.get_settings` reads them through
:func:`parse_security_config`; :mod:`aiops_nautobot.policy` applies them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiops_core.errors import UserError

from .choices import EnvironmentChoices
from .url_rules import URLRule, parse_rule

__all__ = [
    "LAB_LLM_URLS",
    "PUBLIC_LLM_URLS",
    "URL_KINDS",
    "SecretRef",
    "SecurityConfig",
    "StdioCommand",
    "parse_security_config",
]

PUBLIC_LLM_URLS = (
    "https://api.openai.com",
    "https://api.anthropic.com",
    "https://router.huggingface.co",
    "https://api-inference.huggingface.co",
    "https://*.endpoints.huggingface.cloud",
    "https://*.openai.azure.com",
    "https://*.cognitiveservices.azure.com",
)
"""The default of ``allowed_urls["llm"]``: the public endpoints of the built-in providers."""

LAB_LLM_URLS = ("http://127.0.0.1:11434", "http://localhost:11434", "http://[::1]:11434")
"""Added to the ``llm`` default in the LAB environment: Ollama on this host."""

URL_KINDS = ("llm", "mcp", "redis", "middleware")
"""The kinds of ``allowed_urls``: LLM provider/model config, MCP servers (and their health
checks), Redis URLs in middleware config, and any other URL in middleware config."""

DEFAULT_ENTRY = "default"
"""In an ``allowed_urls`` list, stands for that kind's built-in default."""

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_KEY = "PLUGINS_CONFIG['aiops_nautobot']"


@dataclass(frozen=True, slots=True)
class SecretRef:
    """An environment value read from the Nautobot Secret of this name when the command starts."""

    secret: str


@dataclass(frozen=True, slots=True)
class StdioCommand:
    """A command the operator allows stdio MCP server rows to run, by name."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str | SecretRef] = field(default_factory=dict, repr=False)
    cwd: str | None = None


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    """The operator's bounds, parsed."""

    stdio_commands: Mapping[str, StdioCommand]
    allowed_urls: Mapping[str, tuple[URLRule, ...]]
    token_forwarding_prefixes: tuple[URLRule, ...]


def parse_security_config(
    raw: Mapping[str, Any], *, environment: str, redis_urls: tuple[str, ...]
) -> SecurityConfig:
    """Validate the security keys of the app's config.

    Args:
        raw: ``PLUGINS_CONFIG["aiops_nautobot"]``.
        environment: the validated environment (LAB adds loopback Ollama to the ``llm`` default).
        redis_urls: Nautobot's own Redis URLs (the ``redis`` default allows their hosts).

    Raises:
        UserError: a value is invalid; the message names the key and what to write.
    """
    return SecurityConfig(
        stdio_commands=_stdio_commands(raw.get("stdio_commands")),
        allowed_urls=_allowed_urls(raw.get("allowed_urls"), environment, redis_urls),
        token_forwarding_prefixes=_prefixes(raw.get("token_forwarding_prefixes")),
    )


def default_urls(kind: str, environment: str, redis_urls: tuple[str, ...]) -> tuple[str, ...]:
    """The built-in allow list of one kind."""
    if kind == "llm":
        return PUBLIC_LLM_URLS + (LAB_LLM_URLS if environment == EnvironmentChoices.LAB else ())
    if kind == "redis":
        origins = []
        for url in redis_urls:
            parts = urlsplit(url)
            if parts.scheme in ("redis", "rediss") and parts.hostname:
                host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
                origins.append(f"{parts.scheme}://{host}:{parts.port or 6379}")
        return tuple(dict.fromkeys(origins))
    return ()


def _allowed_urls(
    value: Any, environment: str, redis_urls: tuple[str, ...]
) -> dict[str, tuple[URLRule, ...]]:
    key = f"{_KEY}['allowed_urls']"
    if value is None:
        value = {}
    if not isinstance(value, Mapping) or set(value) - set(URL_KINDS):
        raise UserError(
            f"{key} must map some of {', '.join(URL_KINDS)} to lists of URL patterns, e.g. "
            "{'mcp': ['https://mcp.example.com']}"
        )
    allowed = {}
    for kind in URL_KINDS:
        defaults = default_urls(kind, environment, redis_urls)
        entries = value.get(kind, [DEFAULT_ENTRY])
        if not isinstance(entries, list | tuple):
            raise UserError(f"{key}[{kind!r}] must be a list of URL patterns")
        texts: list[str] = []
        for entry in entries:
            texts.extend(defaults if entry == DEFAULT_ENTRY else [entry])
        allowed[kind] = tuple(_rule(f"{key}[{kind!r}]", text) for text in texts)
    return allowed


def _prefixes(value: Any) -> tuple[URLRule, ...]:
    key = f"{_KEY}['token_forwarding_prefixes']"
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise UserError(f"{key} must be a list of https URL prefixes")
    rules = tuple(_rule(key, text) for text in value)
    for rule in rules:
        if rule.scheme != "https" or "*" in rule.host or rule.port is None:
            raise UserError(
                f"{key}: {rule.text!r} must name one host over https, without wildcards, e.g. "
                "'https://mcp.internal.example.com/mcp'"
            )
    return rules


def _rule(key: str, text: Any) -> URLRule:
    try:
        return parse_rule(text)
    except ValueError as err:
        raise UserError(f"{key}: {text!r} is not a valid URL pattern ({err})") from None


def _stdio_commands(value: Any) -> dict[str, StdioCommand]:
    key = f"{_KEY}['stdio_commands']"
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UserError(
            f"{key} must map command names to {{'argv': [...], 'env': {{...}}}}, e.g. "
            "{'time': {'argv': ['/usr/bin/python3', '-m', 'mcp_server_time']}}"
        )
    return {name: _stdio_command(f"{key}[{name!r}]", name, spec) for name, spec in value.items()}


def _stdio_command(key: str, name: Any, spec: Any) -> StdioCommand:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UserError(f"{key}: a command name is 1-64 letters, digits or '_.-'")
    if not isinstance(spec, Mapping) or set(spec) - {"argv", "env", "cwd"}:
        raise UserError(f"{key} must be a dict with 'argv' and optionally 'env' and 'cwd'")
    argv = spec.get("argv")
    if not isinstance(argv, list | tuple) or not argv:
        raise UserError(f"{key}['argv'] must be a non-empty list of strings")
    if not all(isinstance(a, str) and a for a in argv):
        raise UserError(f"{key}['argv'] must be a non-empty list of strings")
    cwd = spec.get("cwd")
    if cwd is not None and (not isinstance(cwd, str) or not cwd):
        raise UserError(f"{key}['cwd'] must be a directory path")
    return StdioCommand(name, tuple(argv), _environment(f"{key}['env']", spec.get("env")), cwd)


def _environment(key: str, value: Any) -> dict[str, str | SecretRef]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UserError(f"{key} must map variable names to strings or {{'secret': '<name>'}}")
    env: dict[str, str | SecretRef] = {}
    for variable, item in value.items():
        if not isinstance(variable, str) or not variable:
            raise UserError(f"{key}: variable names must be non-empty strings")
        if isinstance(item, str):
            env[variable] = item
        elif isinstance(item, Mapping) and set(item) == {"secret"} and item["secret"]:
            env[variable] = SecretRef(str(item["secret"]))
        else:
            raise UserError(
                f"{key}[{variable!r}] must be a string or {{'secret': '<Nautobot Secret name>'}}"
            )
    return env
