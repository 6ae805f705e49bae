"""The system prompt of a chat run: the model's active ``SystemPrompt``, or the built-in one."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from ..choices import SystemPromptStatusChoices
from ..prompts import render_prompt

__all__ = ["DEFAULT_SYSTEM_PROMPT", "ENV_SYSTEM_PROMPT", "prompt_text", "render_system_prompt"]

ENV_SYSTEM_PROMPT = "AIOPS_SYSTEM_PROMPT"
"""LAB fallback: system prompt text (placeholders allowed)."""

DEFAULT_SYSTEM_PROMPT = (
    "You are an operations assistant for network and IT teams, working with Nautobot, the "
    "network source of truth. You are talking to {user} in the {environment} environment. "
    "Today is {current_date}, {current_time} UTC. Use the tools you are given to look facts up "
    "instead of guessing, say when you do not know, and never invent device names or addresses."
)


def prompt_text(row: Any, tenant: Any = None) -> str:
    """The unrendered prompt of an ``LLMModel`` row (``None``: the LAB environment fallback).

    A prompt of a tenant other than ``tenant`` (a ``Tenant``, its primary key or ``None``) is
    never used, even if a row written around validation points at it: the built-in prompt is.
    """
    if row is None:
        return os.environ.get(ENV_SYSTEM_PROMPT) or DEFAULT_SYSTEM_PROMPT
    prompt = row.system_prompt
    if (
        prompt is not None
        and prompt.status == SystemPromptStatusChoices.ACTIVE
        and prompt.text
        and prompt.tenant_id in (None, getattr(tenant, "pk", tenant))
    ):
        return str(prompt.text)
    return DEFAULT_SYSTEM_PROMPT


def render_system_prompt(text: str, *, spec: str, environment: str, user: Any) -> str:
    """``text`` with its placeholders filled for this run (``spec`` is ``provider:model``)."""
    provider, _, model_name = spec.partition(":")
    now = datetime.now(UTC)
    return render_prompt(
        text,
        {
            "current_date": now.date().isoformat(),
            "current_time": now.strftime("%H:%M"),
            "model_name": model_name or provider,
            "provider": provider,
            "environment": environment,
            "user": getattr(user, "username", str(user)),
        },
    )
