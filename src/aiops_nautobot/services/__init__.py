"""Services turning the app's rows into engine objects, and running them.

* :mod:`.engine_loop`: the process's long-lived event loop (sync → async bridge).
* :mod:`.agent_factory`: rows → :class:`aiops_core.Agent` (model, prompt, middleware, MCP, store).
* :mod:`.chat`: one chat turn for a user, and the ``Conversation`` record.
* :mod:`.health` / :mod:`.cleanup`: what the scheduled jobs do; :mod:`.schedules` schedules them.
"""

from __future__ import annotations

from .agent_factory import AgentPlan, ModelChoice, NotConfiguredError, open_agent, plan_agent
from .chat import ChatInputError, PreparedChat, prepare_chat, run_chat, stream_chat
from .cleanup import CleanupReport, prune_conversations
from .engine_loop import EngineLoop, EngineTimeoutError, get_engine_loop
from .health import HealthReport, check_mcp_servers
from .schedules import ensure_job_schedules

__all__ = [
    "AgentPlan",
    "ChatInputError",
    "CleanupReport",
    "EngineLoop",
    "EngineTimeoutError",
    "HealthReport",
    "ModelChoice",
    "NotConfiguredError",
    "PreparedChat",
    "check_mcp_servers",
    "ensure_job_schedules",
    "get_engine_loop",
    "open_agent",
    "plan_agent",
    "prepare_chat",
    "prune_conversations",
    "run_chat",
    "stream_chat",
]
