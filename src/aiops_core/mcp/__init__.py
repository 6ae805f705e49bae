"""MCP client pool: persistent sessions to many MCP servers, offered to agents as tools.

``import aiops_core.mcp`` does not import the ``mcp`` SDK (nor ``httpx2``); the modules here
import it when a pool connects or a health check runs, and the OAuth names of :mod:`.auth` are
loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .callbacks import ClientFeatures, server_logger
from .config import MCPServerConfig
from .elicitation import (
    PAUSE,
    ElicitationHandler,
    ElicitationRequest,
    ElicitationResponse,
    apply_defaults,
    fingerprint,
    validate_content,
)
from .health import HealthResult, HealthSummary, check_health, probe
from .loopback import LoopbackAuthorizer
from .oauth import OAuthConfig
from .pool import MCPClientPool
from .prompts import PromptArgument, PromptInfo, PromptResult
from .resources import ResourceInfo, ResourceTemplateInfo
from .sampling import SamplingApprover, SamplingPolicy, SamplingRequest
from .session import ServerSession
from .status import Backoff, ServerState, ServerStatus
from .tokens import FileTokenStore, MemoryTokenStore, ServerTokenStorage, TokenStore
from .transport import TransportFactory, memory_transport, open_transport

_LAZY = {
    name: "aiops_core.mcp.auth"
    for name in ("AuthWatch", "Authorizer", "build_auth", "discover_authorization_server")
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)

if TYPE_CHECKING:  # the lazy names for type checkers ("X as X": an explicit re-export)
    from .auth import Authorizer as Authorizer
    from .auth import AuthWatch as AuthWatch
    from .auth import build_auth as build_auth
    from .auth import discover_authorization_server as discover_authorization_server

__all__ = [
    "PAUSE",
    "AuthWatch",
    "Authorizer",
    "Backoff",
    "ClientFeatures",
    "ElicitationHandler",
    "ElicitationRequest",
    "ElicitationResponse",
    "FileTokenStore",
    "HealthResult",
    "HealthSummary",
    "LoopbackAuthorizer",
    "MCPClientPool",
    "MCPServerConfig",
    "MemoryTokenStore",
    "OAuthConfig",
    "PromptArgument",
    "PromptInfo",
    "PromptResult",
    "ResourceInfo",
    "ResourceTemplateInfo",
    "SamplingApprover",
    "SamplingPolicy",
    "SamplingRequest",
    "ServerSession",
    "ServerState",
    "ServerStatus",
    "ServerTokenStorage",
    "TokenStore",
    "TransportFactory",
    "apply_defaults",
    "build_auth",
    "check_health",
    "discover_authorization_server",
    "fingerprint",
    "memory_transport",
    "open_transport",
    "probe",
    "server_logger",
    "validate_content",
]
