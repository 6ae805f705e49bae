"""MCP client pool: persistent sessions to many MCP servers, offered to agents as tools.

``import aiops_core.mcp`` does not import the ``mcp`` SDK; the modules here import it when a pool
connects or a health check runs.
"""

from __future__ import annotations

from .config import MCPServerConfig
from .health import HealthResult, HealthSummary, check_health, probe
from .pool import MCPClientPool
from .session import ServerSession
from .status import Backoff, ServerState, ServerStatus
from .transport import TransportFactory, memory_transport, open_transport

__all__ = [
    "Backoff",
    "HealthResult",
    "HealthSummary",
    "MCPClientPool",
    "MCPServerConfig",
    "ServerSession",
    "ServerState",
    "ServerStatus",
    "TransportFactory",
    "check_health",
    "memory_transport",
    "open_transport",
    "probe",
]
