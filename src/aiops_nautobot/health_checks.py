"""The app's checks in Nautobot's health-check framework (``/health/``).

- ``AI Ops checkpoint store``: the configured store (Redis or PostgreSQL) answers a read.
- ``AI Ops MCP servers``: every MCP server the health check job probed is healthy (servers an
  operator marked vulnerable are left out). Not critical: a failing MCP server takes tools away,
  not Nautobot.
- ``AI Ops LLM provider``: the default model's provider answers one unauthenticated request
  (cached for a minute; see :mod:`aiops_nautobot.services.provider_health`). Not critical.
"""

from __future__ import annotations

from health_check.exceptions import ServiceUnavailable, ServiceWarning
from nautobot.extras.health_checks import NautobotHealthCheckBackend
from prometheus_client import Gauge

__all__ = ["CheckpointStoreHealthCheck", "LLMProviderHealthCheck", "MCPServersHealthCheck"]

_PROBE_THREAD = "aiops-health-check-probe"


class CheckpointStoreHealthCheck(NautobotHealthCheckBackend):
    """The checkpoint store answers (a load of a thread that does not exist)."""

    critical_service = True
    metric = Gauge(
        "health_check_aiops_checkpoint_store_info",
        "State of the AI Ops checkpoint store",
        multiprocess_mode=NautobotHealthCheckBackend.MULTIPROCESS_MODE,
    )

    def identifier(self) -> str:
        return "AI Ops checkpoint store"

    def check_status(self) -> None:
        from aiops_core.masking import mask_url

        from .services.stores import with_store
        from .settings import get_settings

        try:
            with_store(lambda store: store.load(_PROBE_THREAD))
        except Exception as err:
            where = mask_url(get_settings().checkpoint_url)
            self.add_error(ServiceUnavailable(f"{where}: {type(err).__name__}"), err)


class MCPServersHealthCheck(NautobotHealthCheckBackend):
    """Every MCP server (except vulnerable ones) was healthy at its last check."""

    critical_service = False
    metric = Gauge(
        "health_check_aiops_mcp_servers_info",
        "State of the AI Ops MCP servers",
        multiprocess_mode=NautobotHealthCheckBackend.MULTIPROCESS_MODE,
    )

    def identifier(self) -> str:
        return "AI Ops MCP servers"

    def check_status(self) -> None:
        from .choices import MCPServerStatusChoices
        from .models import MCPServer

        down = (
            MCPServer.objects.exclude(status=MCPServerStatusChoices.VULNERABLE)
            .exclude(status=MCPServerStatusChoices.HEALTHY)
            .order_by("name")
            .values_list("name", flat=True)
        )
        names = list(down)
        if names:
            self.add_error(ServiceWarning(f"unhealthy MCP servers: {', '.join(names)}"))


class LLMProviderHealthCheck(NautobotHealthCheckBackend):
    """The default model's provider is reachable (any HTTP answer to a cheap request)."""

    critical_service = False
    metric = Gauge(
        "health_check_aiops_llm_provider_info",
        "State of the AI Ops default model's provider",
        multiprocess_mode=NautobotHealthCheckBackend.MULTIPROCESS_MODE,
    )

    def identifier(self) -> str:
        return "AI Ops LLM provider"

    def check_status(self) -> None:
        from .services.provider_health import probe_default_provider

        probe = probe_default_provider()
        if not probe.ok:
            self.add_error(ServiceWarning(probe.message))
