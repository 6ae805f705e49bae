"""Idempotent schedules for the app's jobs (used by ``nautobot-server aiops_schedule_jobs``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiops_core.errors import UserError

__all__ = ["SCHEDULES", "ScheduleSpec", "ensure_job_schedules"]


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """One recurring job: which job, under which schedule name, on which crontab."""

    job_class_name: str
    name: str
    crontab: str


SCHEDULES = (
    ScheduleSpec("MCPServerHealthCheck", "AI Ops: MCP server health check", "*/5 * * * *"),
    ScheduleSpec("ConversationCleanup", "AI Ops: conversation cleanup", "7 * * * *"),
)
"""Health check every 5 minutes, cleanup every hour (at minute 7)."""

JOBS_MODULE = "aiops_nautobot.jobs"


def ensure_job_schedules(user: Any, schedules: tuple[ScheduleSpec, ...] = SCHEDULES) -> list[str]:
    """Enable the jobs and create (or correct) their schedules; safe to run again.

    Returns:
        One line per schedule saying what was done.

    Raises:
        UserError: a job is not registered (run ``nautobot-server migrate`` first).
    """
    from nautobot.extras.choices import JobExecutionType
    from nautobot.extras.models import Job, ScheduledJob

    done = []
    for spec in schedules:
        job = Job.objects.filter(
            module_name=JOBS_MODULE, job_class_name=spec.job_class_name
        ).first()
        if job is None:
            raise UserError(
                f"Job {JOBS_MODULE}.{spec.job_class_name} is not registered: run "
                "`nautobot-server migrate` (it refreshes the job records) and try again"
            )
        if not job.enabled:
            job.enabled = True
            job.validated_save()
        existing = ScheduledJob.objects.filter(name=spec.name).first()
        if existing is not None:
            if existing.crontab == spec.crontab and existing.enabled:
                done.append(f"{spec.name}: already scheduled ({spec.crontab})")
                continue
            existing.delete()  # recreated below: start time and celery options follow the job
            verb = "rescheduled"
        else:
            verb = "scheduled"
        ScheduledJob.create_schedule(
            job,
            user,
            name=spec.name,
            interval=JobExecutionType.TYPE_CUSTOM,
            crontab=spec.crontab,
            job_kwargs={},
        )
        done.append(f"{spec.name}: {verb} ({spec.crontab})")
    return done
