"""The app's security policy: what a configuration row may make the app do.

Every row is input from a user with limited rights. Anything that runs a process, contacts a host
or forwards a credential is bounded by the operator's ``PLUGINS_CONFIG["aiops_nautobot"]`` (read
through :func:`aiops_nautobot.settings.get_settings`):

==========================  ==================================================================
rule                        setting
==========================  ==================================================================
stdio MCP commands          ``stdio_commands``: a row names an entry; nothing listed, no stdio
outbound URLs               ``allowed_urls``: ``llm`` (provider/model config), ``mcp`` (server
                            and health-check URLs, and every OAuth URL of a server: metadata,
                            authorization server, token endpoint, the browser's sign-in
                            page), ``redis`` and ``middleware`` (URLs in middleware config)
user token forwarding       ``token_forwarding_prefixes``, plus the row's own flags
binding a Secret            the user's ``change`` permission on that Secret
==========================  ==================================================================

One module owns these rules. Models ask it when a row is saved (``clean()``, so the UI forms and
the REST API both refuse), and the services ask it again when a row is used (the chat, the health
check), so a row written around validation is refused too. They never re-implement it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from aiops_core.errors import UserError

from .choices import MCPProtocolChoices, MCPServerTypeChoices
from .security_config import StdioCommand
from .settings import get_settings
from .url_rules import URL, parse_url

__all__ = [
    "SETTING",
    "PolicyError",
    "acting_user",
    "check_llm_config",
    "check_mcp_urls",
    "check_middleware_config",
    "check_oauth_url",
    "check_secret_binding",
    "check_url",
    "llm_destinations",
    "may_forward_token",
    "stdio_command",
    "token_forwarding_refusal",
]

SETTING = "PLUGINS_CONFIG['aiops_nautobot']"

URL_KEYS = frozenset({"base_url", "endpoint", "azure_endpoint", "api_base", "host", "url"})
"""Config keys whose value is where a client connects (a full URL is required there)."""

_REDIS_SCHEMES = ("redis", "rediss", "redis+sentinel", "rediss+sentinel", "unix")


class PolicyError(UserError):
    """A row asks for something the operator's configuration does not allow.

    The message names the setting to change (or the permission that is missing).
    """


# ------------------------------------------------------------------------------ outbound URLs
def check_url(kind: str, url: Any, *, what: str) -> URL:
    """Refuse ``url`` unless ``allowed_urls[kind]`` allows it.

    Args:
        kind: ``llm``, ``mcp``, ``redis`` or ``middleware``.
        url: the URL as the row holds it.
        what: where the URL comes from, for the message (``"config['base_url']"``).

    Raises:
        PolicyError: malformed, or not allowed; the message names the setting.
    """
    try:
        parsed = parse_url(url)
    except ValueError as err:
        raise PolicyError(f"{what}: {err}") from None
    rules = get_settings().security.allowed_urls[kind]
    if not any(rule.matches(parsed) for rule in rules):
        setting = f"{SETTING}['allowed_urls'][{kind!r}]"
        raise PolicyError(
            f"{what}: {parsed.origin} is not an allowed destination. The operator allows "
            f"{kind} URLs in {setting} (add a pattern such as '{parsed.origin}' there), or "
            "use an allowed URL."
        )
    return parsed


def check_llm_config(config: Mapping[str, Any], *, what: str = "config") -> None:
    """Refuse an LLM provider or model config that points outside ``allowed_urls['llm']``.

    The known URL keys (``base_url``, ``endpoint``, ``host``...) need a full URL; any other value
    that looks like a URL is checked as well.

    Raises:
        PolicyError: the first URL that is not allowed.
    """
    for path, value in _strings(config):
        key = path.rsplit("[", 1)[-1].strip("[]'\"")
        if key in URL_KEYS and "://" not in value and value:
            raise PolicyError(
                f"{what}{path}: write the full URL with its scheme, e.g. 'https://{value}'"
            )
        if "://" in value:
            check_url("llm", value, what=f"{what}{path}")


def llm_destinations(config: Mapping[str, Any]) -> frozenset[str]:
    """Where an LLM config sends requests (its URL values): a change re-binds the API key."""
    return frozenset(
        value
        for path, value in _strings(config)
        if "://" in value or path.rsplit("[", 1)[-1].strip("[]'\"") in URL_KEYS
    )


def check_middleware_config(config: Mapping[str, Any], *, what: str = "config") -> None:
    """Refuse middleware config URLs outside ``allowed_urls['redis']`` (or ``['middleware']``).

    Raises:
        PolicyError: the first URL that is not allowed.
    """
    for path, value in _strings(config):
        if "://" in value:
            scheme = value.partition("://")[0].lower()
            kind = "redis" if scheme in _REDIS_SCHEMES else "middleware"
            check_url(kind, value, what=f"{what}{path}")


def check_mcp_urls(server: Any) -> None:
    """Refuse an HTTP MCP server row whose endpoint or health URL is outside ``allowed_urls['mcp']``.

    Raises:
        PolicyError: naming the field and the setting.
    """
    if server.protocol != MCPProtocolChoices.HTTP:
        return
    base = (server.url or "").rstrip("/")
    check_url("mcp", base + (server.mcp_endpoint or ""), what="url")
    if server.health_check:
        check_url("mcp", base + server.health_check, what="health_check")


def check_oauth_url(url: str) -> None:
    """Refuse an OAuth URL outside ``allowed_urls['mcp']``.

    An MCP server names its authorization server, and that names its endpoints: hosts the row's
    author may choose. Every URL an OAuth flow contacts (and the sign-in page an admin's browser
    is sent to) passes here first.

    Raises:
        PolicyError: naming the URL's origin and the setting.
    """
    check_url("mcp", url, what="OAuth URL")


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON value, with its path (``['a'][0]``)."""
    if isinstance(value, str):
        yield path, value.strip()
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


# ------------------------------------------------------------------------------ stdio commands
def stdio_command(name: Any) -> StdioCommand:
    """The operator's stdio command called ``name``.

    Raises:
        PolicyError: no such entry (or none at all: stdio is off).
    """
    commands = get_settings().security.stdio_commands
    setting = f"{SETTING}['stdio_commands']"
    if not commands:
        raise PolicyError(
            f"stdio MCP servers are off: the operator lists the commands they may run in {setting}"
        )
    if not isinstance(name, str) or name not in commands:
        raise PolicyError(
            f"Choose one of the commands the operator allows in {setting}: "
            f"{', '.join(sorted(commands))}"
        )
    return commands[name]


# ------------------------------------------------------------------------------ user tokens
def token_forwarding_refusal(server: Any) -> str | None:
    """Why the user's token may not be forwarded to an MCP server row (``None``: it may).

    All of these must hold: an internal server, over HTTPS with TLS verification, whose MCP
    endpoint lies under one of the operator's ``token_forwarding_prefixes``.
    """
    if server.server_type != MCPServerTypeChoices.INTERNAL:
        return "The user's token may only be forwarded to internal servers."
    if server.protocol != MCPProtocolChoices.HTTP:
        return "The user's token may only be forwarded over HTTPS."
    try:
        endpoint = parse_url((server.url or "").rstrip("/") + (server.mcp_endpoint or ""))
    except ValueError as err:
        return f"The server's URL is not valid: {err}"
    if endpoint.scheme != "https":
        return "The user's token may only be forwarded over HTTPS."
    if not server.verify_tls:
        return "The user's token may only be forwarded with TLS verification on."
    prefixes = get_settings().security.token_forwarding_prefixes
    if not any(rule.matches(endpoint) for rule in prefixes):
        return (
            "The user's token is forwarded only to URLs under the operator's "
            f"{SETTING}['token_forwarding_prefixes'] (this endpoint is not under any of them)."
        )
    return None


def may_forward_token(server: Any) -> bool:
    """Whether a row's ``forward_user_token`` takes effect (the row asks and the policy allows)."""
    return bool(server.forward_user_token) and token_forwarding_refusal(server) is None


# ------------------------------------------------------------------------------ secrets
def acting_user() -> Any:
    """The user behind the current change (web request, REST API or job), if there is one.

    ``None`` means no change context at all: code run by the operator (``nbshell``, a
    migration, a management command), which is trusted. A change context without an
    authenticated user yields ``False``, which every permission check refuses.
    """
    from nautobot.extras.signals import change_context_state

    context = change_context_state.get()
    if context is None:
        return None
    user = context.get_user()
    return user if user is not None and getattr(user, "is_authenticated", False) else False


def check_secret_binding(secret: Any, *, what: str) -> None:
    """Refuse to bind ``secret`` to a destination unless the acting user may change the Secret.

    Binding a Secret to a row sends its value wherever the row points; viewing a Secret does not
    entitle anyone to that. Called when a row gains a Secret, changes it, or changes where it
    sends it.

    Raises:
        PolicyError: the acting user lacks ``extras.change_secret`` on this Secret.
    """
    from nautobot.extras.models import Secret

    user = acting_user()
    if user is None:
        return
    if user and Secret.objects.restrict(user, "change").filter(pk=secret.pk).exists():
        return
    raise PolicyError(
        f"{what} sends the value of Secret {secret.name!r} to a new destination; that needs the "
        f"change permission on that Secret. Ask someone who may change it, or leave the Secret "
        "out."
    )
