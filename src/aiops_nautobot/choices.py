"""Choice sets of the app's models."""

from __future__ import annotations

from nautobot.apps.choices import ChoiceSet

__all__ = [
    "EnvironmentChoices",
    "MCPOAuthGrantChoices",
    "MCPProtocolChoices",
    "MCPServerStatusChoices",
    "MCPServerTypeChoices",
    "MCPToolAccessChoices",
    "SystemPromptStatusChoices",
]


class EnvironmentChoices(ChoiceSet):
    """Deployment environment a model is meant for."""

    LAB = "LAB"
    NONPROD = "NONPROD"
    PROD = "PROD"

    CHOICES = ((LAB, "Lab"), (NONPROD, "Non-production"), (PROD, "Production"))


class SystemPromptStatusChoices(ChoiceSet):
    """Lifecycle of a system prompt."""

    ACTIVE = "active"
    DRAFT = "draft"
    RETIRED = "retired"

    CHOICES = ((ACTIVE, "Active"), (DRAFT, "Draft"), (RETIRED, "Retired"))


class MCPServerStatusChoices(ChoiceSet):
    """Health of an MCP server; ``vulnerable`` is an operator kill switch health checks keep."""

    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    VULNERABLE = "vulnerable"

    CHOICES = ((HEALTHY, "Healthy"), (UNHEALTHY, "Unhealthy"), (VULNERABLE, "Vulnerable"))


class MCPProtocolChoices(ChoiceSet):
    """Transport used to reach an MCP server."""

    HTTP = "http"
    STDIO = "stdio"

    CHOICES = ((HTTP, "Streamable HTTP"), (STDIO, "stdio"))


class MCPServerTypeChoices(ChoiceSet):
    """Whether an MCP server is run by this organisation or by a third party."""

    INTERNAL = "internal"
    EXTERNAL = "external"

    CHOICES = ((INTERNAL, "Internal"), (EXTERNAL, "External"))


class MCPOAuthGrantChoices(ChoiceSet):
    """How the app authorizes itself to an HTTP MCP server (OAuth 2.1)."""

    NONE = "none"
    AUTHORIZATION_CODE = "authorization_code"
    CLIENT_CREDENTIALS = "client_credentials"

    CHOICES = (
        (NONE, "None"),
        (AUTHORIZATION_CODE, "Authorization code (an admin connects once)"),
        (CLIENT_CREDENTIALS, "Client credentials (unattended)"),
    )


class MCPToolAccessChoices(ChoiceSet):
    """What an MCP tool may do: writable tools need a review and every call an approval."""

    READ_ONLY = "read_only"
    WRITABLE = "writable"

    CHOICES = ((READ_ONLY, "Read-only"), (WRITABLE, "Writable"))
