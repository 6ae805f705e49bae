"""MCP servers the agent may use as tool sources."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from nautobot.apps.models import PrimaryModel, extras_features

from ..choices import MCPProtocolChoices, MCPServerStatusChoices, MCPServerTypeChoices
from ..policy import token_forwarding_refusal
from ._validation import require_string_list
from .llm import FEATURES

__all__ = ["MCPServer"]


@extras_features(*FEATURES)
class MCPServer(PrimaryModel):
    """An MCP server reached over streamable HTTP (``url`` + ``mcp_endpoint``) or stdio.

    ``status`` is kept by the health-check job, except ``vulnerable``: an operator kill switch
    that no health check changes. The user's token is forwarded only to internal servers over
    verified HTTPS.
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
    command = models.CharField(max_length=500, blank=True, help_text="Executable (stdio protocol)")
    args = models.JSONField(default=list, blank=True, help_text="Command arguments (JSON list)")
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
        default=False, help_text="Send the user's Nautobot token (internal HTTPS servers only)"
    )
    last_checked = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "MCP server"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        for field in ("args", "allowed_tools", "denied_tools"):
            try:
                require_string_list(getattr(self, field), field)
            except ValidationError as err:
                errors.update({k: v[0] for k, v in err.message_dict.items()})
        for field in ("mcp_endpoint", "health_check"):
            if not getattr(self, field, "").startswith("/"):
                errors[field] = "Enter a path starting with '/'."
        if self.protocol == MCPProtocolChoices.HTTP and not self.url:
            errors["url"] = "An HTTP server needs a URL."
        if self.protocol == MCPProtocolChoices.STDIO and not self.command:
            errors["command"] = "A stdio server needs a command."
        if self.forward_user_token:
            why = token_forwarding_refusal(self)
            if why:
                errors["forward_user_token"] = why
        if errors:
            raise ValidationError(errors)

    @property
    def endpoint_url(self) -> str:
        """The full MCP endpoint URL (HTTP servers)."""
        return self.url.rstrip("/") + self.mcp_endpoint

    @property
    def health_url(self) -> str:
        """The full health-check URL (HTTP servers)."""
        return self.url.rstrip("/") + self.health_check
