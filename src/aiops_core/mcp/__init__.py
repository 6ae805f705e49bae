"""MCP client pool: persistent sessions to many MCP servers, offered to agents as tools.

``import aiops_core.mcp`` does not import the ``mcp`` SDK (nor ``httpx2``); the modules here
import it when a pool connects or a health check runs, and the OAuth names of :mod:`.auth` are
loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .callbacks import ClientFeatures, server_logger
from .config import MCPServerConfig
from .convert import convert_content, convert_result
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
from .pool import MCPClientPool, exposed_names
from .prompts import PromptArgument, PromptInfo, PromptResult
from .resources import ResourceInfo, ResourceTemplateInfo
from .sampling import SamplingApprover, SamplingPolicy, SamplingRequest
from .session import ServerSession
from .status import Backoff, ServerState, ServerStatus
from .tokens import FileTokenStore, MemoryTokenStore, ServerTokenStorage, TokenStore
from .transport import TransportFactory, memory_transport, open_transport

if TYPE_CHECKING:
    from .auth import Authorizer, AuthWatch, build_auth, discover_authorization_server

_LAZY = {"AuthWatch", "Authorizer", "build_auth", "discover_authorization_server"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import auth

        return getattr(auth, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    "convert_content",
    "convert_result",
    "discover_authorization_server",
    "exposed_names",
    "fingerprint",
    "memory_transport",
    "open_transport",
    "probe",
    "server_logger",
    "validate_content",
]
