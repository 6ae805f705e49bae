"""What the pool reports about a server, and how long it waits before reconnecting."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Backoff", "ServerState", "ServerStatus"]


class ServerState(StrEnum):
    """Lifecycle state of one server in the pool."""

    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    DISABLED = "disabled"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What :meth:`MCPClientPool.status` reports about one server."""

    name: str
    state: ServerState
    transport: str
    type: str
    tool_count: int
    last_error: str | None
    last_check: datetime | None
    failures: int
    connected_since: datetime | None = None
    auth_required: bool = False
    """The server wants OAuth authorization the client does not have (a sign-in is needed)."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for the CLI and the REST API)."""
        return {
            "name": self.name,
            "state": self.state.value,
            "transport": self.transport,
            "type": self.type,
            "tool_count": self.tool_count,
            "last_error": self.last_error,
            "last_check": self.last_check.isoformat() if self.last_check else None,
            "failures": self.failures,
            "connected_since": self.connected_since.isoformat() if self.connected_since else None,
            "auth_required": self.auth_required,
        }


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential reconnect delays: ``initial * factor**(failures-1)``, capped, with jitter.

    Attributes:
        initial: seconds before the first reconnect attempt.
        maximum: the cap.
        factor: growth per consecutive failure.
        jitter: fraction of random spread (0.1: ±10 %), so many workers do not reconnect in step.
    """

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.1

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failures (``failures >= 1``)."""
        base = min(self.maximum, self.initial * self.factor ** max(0, failures - 1))
        return max(0.0, base * (1 + random.uniform(-self.jitter, self.jitter)))
