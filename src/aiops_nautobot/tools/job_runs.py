"""Change-set operations that run a named Nautobot Job: checked when proposed, started when applied.

``{"action": "run_job", "job": "<module.Class or Job name>", "data": {...inputs}}``. The proposal
checks, as the user, that the Job is installed and enabled, that the user may run it (the ``run``
object permission on Jobs), that it is neither the app's own *Apply change set* job nor a Job with
``has_sensitive_variables`` (Nautobot neither stores nor schedules such inputs, and the assistant
never handles secrets), and validates the inputs with the Job's own form; the diff shows the Job
and the inputs. After a person approved the change set, the *Apply change set* job checks all of
it again and starts the Job as the user the way Nautobot's own run view does: through a
``ScheduledJob``, so that an approval workflow that applies to the Job gates the run (the change
set then waits for Nautobot's approval), else queued at once (``JobResult.enqueue_job``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .access import ToolInputError, is_sensitive_field, viewable
from .values import json_value

__all__ = ["RUN_JOB", "plan_job_run", "start_job_run"]

RUN_JOB = "run_job"
"""The operation action that runs a Job."""
APPLY_JOB = ("aiops_nautobot.jobs", "ApplyChangeSet")
"""Module and class of the Job that applies change sets."""
PENDING_APPROVAL = "pending_approval"
"""The ``state`` of a run that waits for Nautobot's approval workflow."""


def _runnable_job(user: Any, reference: Any) -> Any:
    """The Job named ``reference`` (class path or name) that ``user`` may run now."""
    from django.db.models import Q
    from nautobot.extras.models import Job

    if not isinstance(reference, str) or not reference.strip():
        raise ToolInputError(
            "A run_job operation names its Job: 'job': '<module.Class>' or the Job's name"
        )
    reference = reference.strip()
    query = Q(name=reference)
    if "." in reference:
        module, _, class_name = reference.rpartition(".")
        query |= Q(module_name=module, job_class_name=class_name)
    jobs = list(Job.objects.restrict(user, "run").filter(query)[:2])
    if not jobs:
        raise ToolInputError(
            f"No Job {reference!r} that you may run: it does not exist, or you lack the 'run' "
            "permission on it (an administrator grants it with an object permission on Jobs)"
        )
    if len(jobs) > 1:
        raise ToolInputError(f"More than one Job is named {reference!r}: give its module.Class")
    [job] = jobs
    if (job.module_name, job.job_class_name) == APPLY_JOB:
        raise ToolInputError(
            "The 'Apply change set' job cannot be a step of a change set: it is what applies "
            "them (call nautobot_apply_change_set)"
        )
    if job.has_sensitive_variables:
        raise ToolInputError(
            f"Job {job.name!r} may take sensitive inputs (has_sensitive_variables is set): "
            "Nautobot neither stores nor schedules its inputs and the assistant never handles "
            "secrets. Run it from the Jobs page yourself"
        )
    if not job.installed or job.job_class is None:
        raise ToolInputError(f"Job {job.name!r} is not installed")
    if not job.enabled:
        raise ToolInputError(f"Job {job.name!r} is not enabled: an administrator must enable it")
    return job


def _error_text(err: Exception) -> str:
    if hasattr(err, "error_dict"):
        return "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in err.message_dict.items())
    return "; ".join(getattr(err, "messages", None) or [str(err)])


def _job_inputs(user: Any, job: Any, data: Any) -> dict[str, Any]:
    """``data`` validated by the Job's own form, serialized as Nautobot stores Job inputs."""
    from django.core.exceptions import ObjectDoesNotExist, ValidationError
    from django.db.models import Model, QuerySet

    if not isinstance(data, Mapping):
        raise ToolInputError("A run_job operation's 'data' must be an object of the Job's inputs")
    sensitive = sorted(name for name in data if is_sensitive_field(str(name)))
    if sensitive:
        raise ToolInputError(f"Inputs {sensitive} cannot be given through the assistant")
    job_class = job.job_class
    try:
        cleaned = job_class.prepare_job_kwargs(job_class.validate_data(dict(data)))
    except (ValidationError, ObjectDoesNotExist, ValueError, TypeError) as err:
        expected = ", ".join(sorted(job_class._get_vars())) or "none"
        raise ToolInputError(
            f"Invalid inputs for Job {job.name!r}: {_error_text(err)} (its inputs: {expected})"
        ) from None
    # The Job's form takes any object; the user names only objects they may view.
    for name, value in cleaned.items():
        if isinstance(value, Model):
            value = type(value).objects.filter(pk=value.pk)
        if isinstance(value, QuerySet):
            wanted = set(value.values_list("pk", flat=True))
            seen = set(
                viewable(value.model, user).filter(pk__in=wanted).values_list("pk", flat=True)
            )
            if wanted - seen:
                raise ToolInputError(
                    f"Input {name!r} of Job {job.name!r}: no {value.model._meta.label_lower} "
                    f"{', '.join(sorted(str(pk) for pk in wanted - seen))} that you may view"
                )
    return json_value(job_class.serialize_data(cleaned))


def plan_job_run(user: Any, operation: Mapping[str, Any]) -> dict[str, Any]:
    """Check a ``run_job`` operation as ``user``; its diff entry (nothing runs)."""
    job = _runnable_job(user, operation.get("job"))
    return {
        "action": RUN_JOB,
        "job": job.class_path,
        "job_id": str(job.pk),
        "display": job.name,
        "data": _job_inputs(user, job, operation.get("data") or {}),
    }


def start_job_run(user: Any, planned: Mapping[str, Any]) -> dict[str, Any]:
    """Start the planned run as ``user`` after checking it again; its diff entry with the
    result: ``state`` ``started`` (``job_result``) or ``pending_approval`` (``scheduled_job``:
    an approval workflow of Nautobot gates it)."""
    from django.db import transaction
    from django.urls import reverse
    from nautobot.extras.choices import JobExecutionType
    from nautobot.extras.models import JobResult, ScheduledJob

    job = _runnable_job(user, planned["job"])
    inputs = _job_inputs(user, job, planned.get("data") or {})
    queue = job.default_job_queue
    # As Nautobot's run view and API do: a ScheduledJob starts the approval workflow that
    # applies to it, if any; without one it is dropped and the Job is queued at once.
    with transaction.atomic():
        schedule = ScheduledJob.create_schedule(
            job,
            user,
            interval=JobExecutionType.TYPE_IMMEDIATELY,
            job_queue=queue,
            job_kwargs=inputs,
        )
        dryrun = bool(inputs.get("dryrun")) if job.job_class.supports_dryrun else False
        if schedule.has_approval_workflow_definition() and not dryrun:
            return {
                **planned,
                "data": inputs,
                "state": PENDING_APPROVAL,
                "scheduled_job": str(schedule.pk),
                "approval_url": reverse("extras:scheduledjob_approvalworkflow", args=[schedule.pk]),
            }
        schedule.delete()
    result = JobResult.enqueue_job(job, user, job_queue=queue, job_kwargs=inputs)
    result.refresh_from_db()
    return {
        **planned,
        "data": inputs,
        "state": "started",
        "job_result": str(result.pk),
        "job_status": result.status,
        "job_result_url": result.get_absolute_url(),
    }
