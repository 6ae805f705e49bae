"""Change sets follow Nautobot's approval of the Jobs they run.

A change set whose ``run_job`` operation waits for an approval workflow is ``pending_approval``;
its diff names the ``ScheduledJob``. When the workflow decides, Nautobot saves that scheduled
job with its new state: approved (``active``, the Job then runs from the schedule) makes the
entry ``approved``, a denial or cancellation ``denied`` or ``canceled``. Once no entry waits, the
change set is ``applied``, or ``failed`` if a run was refused.
"""

from __future__ import annotations

from typing import Any

__all__ = ["connect_signals", "follow_scheduled_job"]

_DECIDED = {
    "active": "approved",
    "completed": "approved",
    "denied": "denied",
    "canceled": "canceled",
    "errored": "errored",
}


def follow_scheduled_job(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Record the decision about ``instance`` (a ScheduledJob) in the change sets that wait for it."""
    from django.db import transaction

    from ..models import ChangeSet, ChangeSetStatus
    from ..tools.job_runs import PENDING_APPROVAL

    state = _DECIDED.get(instance.state)
    if state is None:  # still pending
        return
    key = str(instance.pk)
    with transaction.atomic():
        rows = ChangeSet.objects.select_for_update().filter(
            status=ChangeSetStatus.PENDING_APPROVAL, diff__contains=[{"scheduled_job": key}]
        )
        for row in rows:
            for entry in row.diff:
                if entry.get("scheduled_job") == key and entry.get("state") == PENDING_APPROVAL:
                    entry["state"] = state
            states = {entry.get("state") for entry in row.diff}
            if PENDING_APPROVAL in states:
                new_status = ChangeSetStatus.PENDING_APPROVAL
            elif states & {"denied", "canceled", "errored"}:
                new_status = ChangeSetStatus.FAILED
            else:
                new_status = ChangeSetStatus.APPLIED
            row.status = new_status
            row.save(update_fields=["diff", "status"])


def connect_signals() -> None:
    """Connect the receiver (called from the app's ``ready()``)."""
    from django.db.models.signals import post_save
    from nautobot.extras.models import ScheduledJob

    post_save.connect(
        follow_scheduled_job,
        sender=ScheduledJob,
        dispatch_uid="aiops_nautobot.change_set_follows_job_approval",
    )
