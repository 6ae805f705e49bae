"""Services turning the app's rows into engine objects, and running them.

* :mod:`.engine_loop`: the process's long-lived event loop (sync → async bridge), and
  :mod:`.leases`: the resources that live on it.
* :mod:`.agent_factory`: rows → :class:`aiops_core.Agent`, from :mod:`.model_choice` (which
  model), :mod:`.secret_values` (Secrets), :mod:`.system_prompt`, :mod:`.mcp_servers` and
  :mod:`.mcp_pools` (MCP), and :mod:`.stores` (the checkpoint store).
* :mod:`.chat`: one chat turn for a user, and the ``Conversation`` record;
  :mod:`.conversations` keeps the store in step with those records.
* :mod:`.health` / :mod:`.cleanup`: what the scheduled jobs do; :mod:`.schedules` schedules them.
* :mod:`.errors`: the services' errors.
"""

from __future__ import annotations

from .agent_factory import AgentPlan, open_agent, plan_agent
from .chat import PreparedChat, prepare_chat, run_chat, stream_chat
from .cleanup import CleanupReport, prune_conversations
from .engine_loop import EngineLoop, EngineTimeoutError, get_engine_loop
from .errors import ChatInputError, NotConfiguredError
from .health import HealthReport, check_mcp_servers
from .model_choice import ModelChoice
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
