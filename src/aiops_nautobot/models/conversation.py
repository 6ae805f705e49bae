"""Conversation records: who owns a chat thread (messages live in the checkpoint store).

A record holds no message text: it is change-logged and sent to webhooks, which anyone with
``view_objectchange`` or a webhook receiver can read. Its title is neutral unless the owner
writes one; the first message's text is the thread's title in the checkpoint store, read
through ``conversations/{id}/messages/``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import PrimaryModel, extras_features

from .llm import LLMModel

__all__ = ["Conversation", "new_thread_id"]


def new_thread_id() -> str:
    """A fresh, unguessable thread id."""
    return uuid.uuid4().hex


# Not exposed in GraphQL: its permission model cannot restrict rows to their owner.
@extras_features("custom_validators", "webhooks")
class Conversation(PrimaryModel):
    """One chat thread of one user."""

    thread_id = models.CharField(
        max_length=CHARFIELD_MAX_LENGTH, unique=True, default=new_thread_id, editable=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aiops_conversations"
    )
    llm_model = models.ForeignKey(
        LLMModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    title = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    # SET_NULL: a conversation is the owner's record, not configuration of the tenant.
    tenant = models.ForeignKey(
        "tenancy.Tenant",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="aiops_conversations",
        help_text="The tenant whose configuration the thread uses (fixed at its first turn)",
    )
    last_activity = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-last_activity"]
        permissions = [("use_chat", "Can use the AI Ops chat")]

    def __str__(self) -> str:
        return self.title or self.thread_id
