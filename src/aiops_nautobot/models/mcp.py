"""MCP servers the agent may use as tool sources."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from nautobot.apps.models import PrimaryModel, extras_features

from ..choices import (
    MCPOAuthGrantChoices,
    MCPProtocolChoices,
    MCPServerStatusChoices,
    MCPServerTypeChoices,
)
from ..policy import (
    PolicyError,
    check_mcp_urls,
    check_secret_binding,
    stdio_command,
    token_forwarding_refusal,
)
from ._validation import require_string_list, stored_values
from .llm import FEATURES, tenant_field

__all__ = ["MCPServer", "mcp_config_name"]

DESTINATION_FIELDS = ("protocol", "url", "mcp_endpoint", "health_check", "verify_tls")
"""Where a server's headers Secret is sent: changing one re-binds the Secret."""
OAUTH_DESTINATION_FIELDS = (*DESTINATION_FIELDS, "oauth_grant", "oauth_client_id")
"""Where the OAuth Secret is sent (the server's authorization server): changing one re-binds it."""

_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_.\-]+")


def mcp_config_name(name: str, pk: Any = None) -> str:
    """A server name as the engine (and the model) sees it: at most 64 letters, digits, ``_.-``."""
    return _UNSAFE_NAME_CHARACTERS.sub("-", name).strip("-")[:64] or f"server-{pk}"


@extras_features(*FEATURES)
class MCPServer(PrimaryModel):
    """An MCP server reached over streamable HTTP (``url`` + ``mcp_endpoint``) or stdio.

    A stdio server names one of the commands the operator lists in ``PLUGINS_CONFIG``
    (``command_name``); the database never holds an executable or its arguments. HTTP URLs must
    be allowed by the operator's outbound policy. See :mod:`aiops_nautobot.policy`.

    ``status`` becomes ``healthy`` only through a health check. Users may set ``unhealthy`` or
    ``vulnerable``: an operator kill switch that no health check changes. The user's token is
    forwarded only where :func:`aiops_nautobot.policy.token_forwarding_refusal` allows it.
    """

    name = models.CharField(max_length=100, unique=True)
    status = models.CharField(
        max_length=20, choices=MCPServerStatusChoices, default=MCPServerStatusChoices.UNHEALTHY
    )
    protocol = models.CharField(
        max_length=10, choices=MCPProtocolChoices, default=MCPProtocolChoices.HTTP
    )
    url = models.URLField(blank=True, max_length=500, help_text="Base URL (http protocol)")
    mcp_endpoint = models.CharField(max_length=200, default="/mcp")
    health_check = models.CharField(max_length=200, default="/health")
    command_name = models.CharField(
        max_length=64,
        blank=True,
        help_text="stdio protocol: one of the commands the operator allows (PLUGINS_CONFIG "
        "stdio_commands)",
    )
    headers_secret = models.ForeignKey(
        "extras.Secret",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aiops_mcp_servers",
        help_text="Secret whose value is a JSON object of HTTP headers",
    )
    server_type = models.CharField(
        max_length=10, choices=MCPServerTypeChoices, default=MCPServerTypeChoices.INTERNAL
    )
    allowed_tools = models.JSONField(
        default=list, blank=True, help_text="Only these tools (JSON list; empty: all)"
    )
    denied_tools = models.JSONField(default=list, blank=True, help_text="Never these tools")
    verify_tls = models.BooleanField(default=True)
    timeout_seconds = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1), MaxValueValidator(3600)]
    )
    forward_user_token = models.BooleanField(
        default=False,
        help_text="Send the user's Nautobot token (internal HTTPS servers under the operator's "
        "token_forwarding_prefixes only)",
    )
    oauth_grant = models.CharField(
        max_length=30,
        choices=MCPOAuthGrantChoices,
        default=MCPOAuthGrantChoices.NONE,
        verbose_name="OAuth grant",
        help_text="HTTP servers: authorization code (an admin connects once) or client "
        "credentials (unattended)",
    )
    oauth_client_id = models.CharField(
        max_length=255,
        blank=True,
        verbose_name="OAuth client ID",
        help_text="A pre-registered client (empty: the app registers itself where the "
        "authorization server allows it); required for client credentials",
    )
    oauth_secret = models.ForeignKey(
        "extras.Secret",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aiops_mcp_oauth_servers",
        verbose_name="OAuth secret",
        help_text="Secret holding the client secret (or the PEM private key)",
    )
    oauth_private_key = models.BooleanField(
        default=False,
        verbose_name="OAuth secret is a private key",
        help_text="Client credentials: the Secret holds a PEM private key (private-key JWT "
        "client authentication) rather than a client secret",
    )
    oauth_scopes = models.CharField(
        max_length=500,
        blank=True,
        verbose_name="OAuth scopes",
        help_text="Scopes to ask for, space separated (empty: what the server asks for)",
    )
    last_checked = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    tenant = tenant_field("aiops_mcp_servers")

    class Meta:
        ordering = ["name"]
        verbose_name = "MCP server"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        for field in ("allowed_tools", "denied_tools"):
            try:
                require_string_list(getattr(self, field), field)
            except ValidationError as err:
                errors.update({k: v[0] for k, v in err.message_dict.items()})
        for field in ("mcp_endpoint", "health_check"):
            if not getattr(self, field, "").startswith("/"):
                errors[field] = "Enter a path starting with '/'."
        stored = stored_values(
            self, ("status", "headers_secret_id", "oauth_secret_id", *OAUTH_DESTINATION_FIELDS)
        )
        errors.update(self._status_errors(stored))
        errors.update(self._name_errors())
        errors.update(self._transport_errors(errors))
        if self.forward_user_token:
            why = token_forwarding_refusal(self)
            if why:
                errors["forward_user_token"] = why
        errors.update(self._oauth_errors())
        if not errors and self.headers_secret_id is not None:
            errors.update(self._binding_errors(stored))
        if not errors and self.oauth_secret_id is not None:
            errors.update(self._binding_errors(stored, "oauth_secret", OAUTH_DESTINATION_FIELDS))
        if errors:
            raise ValidationError(errors)

    def _status_errors(self, stored: dict[str, Any] | None) -> dict[str, str]:
        before = stored["status"] if stored else None
        if self.status == MCPServerStatusChoices.HEALTHY and before != self.status:
            return {
                "status": "Only a health check marks a server healthy: save it as unhealthy and "
                "run the health check (or wait for the scheduled one)."
            }
        return {}

    def _name_errors(self) -> dict[str, str]:
        mine = mcp_config_name(self.name, self.pk).casefold()
        others = type(self).objects.exclude(pk=self.pk).values_list("pk", "name")
        clash = next(
            (name for pk, name in others if mcp_config_name(name, pk).casefold() == mine), None
        )
        if clash is None:
            return {}
        return {
            "name": f"The model would see this server under the same name as {clash!r} "
            f"({mine!r}: names are compared after replacing characters other than letters, "
            "digits and '_.-', and cut to 64 characters): choose another name."
        }

    def _transport_errors(self, errors: dict[str, str]) -> dict[str, str]:
        found: dict[str, str] = {}
        try:
            if self.protocol == MCPProtocolChoices.HTTP:
                if not self.url:
                    return {"url": "An HTTP server needs a URL."}
                if "mcp_endpoint" not in errors and "health_check" not in errors:
                    check_mcp_urls(self)
            elif self.protocol == MCPProtocolChoices.STDIO:
                stdio_command(self.command_name)
        except PolicyError as err:
            field = "command_name" if self.protocol == MCPProtocolChoices.STDIO else "url"
            found[field] = str(err)
        return found

    def _binding_errors(
        self,
        stored: dict[str, Any] | None,
        field: str = "headers_secret",
        destination: tuple[str, ...] = DESTINATION_FIELDS,
    ) -> dict[str, str]:
        """Binding the Secret in ``field`` anew (or moving where it is sent) needs change rights."""
        moved = stored is None or any(
            stored[name] != getattr(self, name) for name in (f"{field}_id", *destination)
        )
        if not moved:
            return {}
        try:
            check_secret_binding(getattr(self, field), what="This change")
        except PolicyError as err:
            return {field: str(err)}
        return {}

    def _oauth_errors(self) -> dict[str, str]:
        grant = self.oauth_grant
        if grant == MCPOAuthGrantChoices.NONE:
            return {}
        if self.protocol != MCPProtocolChoices.HTTP:
            return {"oauth_grant": "OAuth is for HTTP servers only."}
        if grant == MCPOAuthGrantChoices.CLIENT_CREDENTIALS:
            if not self.oauth_client_id:
                return {"oauth_client_id": "Client credentials need the client ID."}
            if self.oauth_secret_id is None:
                return {"oauth_secret": "Client credentials need the client secret or key."}
        elif self.oauth_private_key:
            return {"oauth_private_key": "A private key is for client credentials only."}
        if self.oauth_secret_id is not None and not self.oauth_client_id:
            return {"oauth_client_id": "A client secret belongs to a client ID: enter it."}
        return {}

    @property
    def config_name(self) -> str:
        """The server's name as the engine (and the model) sees it."""
        return mcp_config_name(self.name, self.pk)

    @property
    def endpoint_url(self) -> str:
        """The full MCP endpoint URL (HTTP servers)."""
        return self.url.rstrip("/") + self.mcp_endpoint

    @property
    def health_url(self) -> str:
        """The full health-check URL (HTTP servers)."""
        return self.url.rstrip("/") + self.health_check
