"""Change sets: writes the model proposed, with their dry-run diff, the approval and the result.

A row ties the writes to the conversation turn that caused them (``thread_id`` and ``turn_id``)
and to the Nautobot Job run that applied them (``job_result``): the change-log entries of that
run carry the change set's id as their ``request_id``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from nautobot.apps.constants import CHARFIELD_MAX_LENGTH
from nautobot.apps.models import BaseManager, BaseModel, RestrictedQuerySet

__all__ = ["ChangeSet", "ChangeSetQuerySet", "ChangeSetStatus"]


class ChangeSetStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPLIED = "applied", "Applied"
    # Its object changes are saved; a Job it runs waits for Nautobot's approval workflow.
    PENDING_APPROVAL = "pending_approval", "Awaiting Job approval"
    FAILED = "failed", "Failed"


class ChangeSetQuerySet(RestrictedQuerySet):
    def visible_to(self, user: Any) -> ChangeSetQuerySet:
        """The change sets ``user`` may see: their own, plus those a ``view`` object permission
        on change sets grants (an auditor's); anonymous users see none."""
        if user is None or not user.is_authenticated:
            return self.none()
        granted = ChangeSet.objects.restrict(user, "view").values("pk")
        return self.filter(models.Q(owner=user) | models.Q(pk__in=granted))


class ChangeSet(BaseModel):
    """Writes proposed in one chat turn, applied only by the Apply change set job."""

    objects = BaseManager.from_queryset(ChangeSetQuerySet)()

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

    def change_log(self, user: Any) -> Any:
        """The change-log entries this change set produced that ``user`` may view."""
        from nautobot.extras.models import ObjectChange

        return ObjectChange.objects.restrict(user, "view").filter(request_id=self.pk)

    @property
    def change_log_path(self) -> str:
        """Nautobot's change log filtered to this change set's writes (their request id)."""
        from django.urls import reverse

        return f"{reverse('extras:objectchange_list')}?request_id={self.pk}"
