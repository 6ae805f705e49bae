"""Change sets: writes the model proposed, with their dry-run diff, the approval and the result.

A row ties the writes to the conversation turn that caused them (``thread_id`` and ``turn_id``)
and to the Nautobot Job run that applied them (``job_result``): the change-log entries of that
run carry the job result's id as their ``request_id``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import BaseModel

__all__ = ["ChangeSet", "ChangeSetStatus"]


class ChangeSetStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"


class ChangeSet(BaseModel):
    """Writes proposed in one chat turn, applied only by the Apply change set job."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aiops_change_sets"
    )
    thread_id = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True, db_index=True)
    turn_id = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    summary = models.CharField(max_length=CHARFIELD_MAX_LENGTH, blank=True)
    operations = models.JSONField(default=list)
    diff = models.JSONField(default=list)
    status = models.CharField(
        max_length=16, choices=ChangeSetStatus.choices, default=ChangeSetStatus.PROPOSED
    )
    job_result = models.ForeignKey(
        "extras.JobResult", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    applied = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"Change set {self.pk} ({self.status})"
