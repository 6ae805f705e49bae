"""Conversation records: who owns a chat thread (messages live in the checkpoint store)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, extras_features

from .llm import LLMModel

__all__ = ["Conversation"]


# Not exposed in GraphQL: its permission model cannot restrict rows to their owner.
@extras_features("custom_validators", "webhooks")
class Conversation(PrimaryModel):
    """One chat thread of one user."""

    thread_id = models.CharField(max_length=CHARFIELD_MAX_LENGTH, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aiops_conversations"
    )
    llm_model = models.ForeignKey(
        LLMModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    title = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    last_activity = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-last_activity"]
        permissions = [("use_chat", "Can use the AI Ops chat")]

    def __str__(self) -> str:
        return self.title or self.thread_id
