"""aiops_nautobot: the aiops Nautobot app.

Stores the engine's configuration (providers, models, system prompts, middleware, MCP servers) and
the users' conversations in Nautobot's database, and exposes them in the UI and the REST API under
``/plugins/ai-ops/`` and ``/api/plugins/ai-ops/``.
"""

from __future__ import annotations

from importlib import metadata

from nautobot.apps import NautobotAppConfig

from .settings import DEFAULTS

try:
    __version__ = metadata.version("aiops")
except metadata.PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"


class AiopsConfig(NautobotAppConfig):
    """The Nautobot app configuration of aiops."""

    name = "aiops_nautobot"
    verbose_name = "AI Ops"
    version = __version__
    author = "aiops developers"
    description = "AI operations assistant: LLM providers, models, middleware, MCP servers, chat."
    base_url = "ai-ops"
    min_version = "3.2.0"
    max_version = "3.99"
    required_settings: list[str] = []
    # One home for the defaults: aiops_nautobot.settings (``None`` there means "derived").
    default_settings = dict(DEFAULTS)
    searchable_models = ["llmprovider", "llmmodel", "systemprompt", "mcpserver"]

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_migrate

        from .signals import seed_registry_rows

        post_migrate.connect(seed_registry_rows, sender=self, dispatch_uid="aiops_nautobot.seed")

        from .services.conversations import connect_signals

        connect_signals()  # deleting a Conversation deletes its thread from the store

        from .services.change_sets import connect_signals as follow_job_approvals

        follow_job_approvals()  # a change set follows Nautobot's approval of the Jobs it runs

        from health_check.plugins import plugin_dir

        from .health_checks import (
            CheckpointStoreHealthCheck,
            LLMProviderHealthCheck,
            MCPServersHealthCheck,
        )

        plugin_dir.register(CheckpointStoreHealthCheck)
        plugin_dir.register(MCPServersHealthCheck)
        plugin_dir.register(LLMProviderHealthCheck)


config = AiopsConfig
