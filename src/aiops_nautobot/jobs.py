"""Scheduled jobs of the app: thin wrappers around :mod:`aiops_nautobot.services`.

Schedule both after installing (see the README, or run
``nautobot-server aiops_schedule_jobs``): the MCP health check every 5 minutes, the
conversation cleanup every hour.
"""

from __future__ import annotations

from nautobot.apps.jobs import IntegerVar, Job, StringVar, register_jobs
from nautobot.extras.choices import ObjectChangeEventContextChoices
from nautobot.extras.context_managers import web_request_context

from .services.cleanup import prune_conversations
from .services.health import check_mcp_servers

name = "AI Ops"  # the jobs' group in the UI


class MCPServerHealthCheck(Job):
    """Check every MCP server (except vulnerable ones), update its status, fill the catalog."""

    rechecks = IntegerVar(
        default=2, min_value=0, max_value=10, description="Re-checks that must confirm a change"
    )
    recheck_delay_seconds = IntegerVar(
        default=5, min_value=0, max_value=300, description="Seconds between re-checks"
    )

    class Meta:
        name = "MCP server health check"
        description = (
            "Probe MCP servers and mark them healthy or unhealthy (vulnerable ones are skipped); "
            "record the healthy servers' tools in the MCP tool catalog."
        )
        has_sensitive_variables = False  # schedulable
        soft_time_limit = 600
        time_limit = 900

    def run(self, rechecks: int = 2, recheck_delay_seconds: int = 5) -> dict:  # type: ignore[override]
        report = check_mcp_servers(rechecks=rechecks, recheck_delay=float(recheck_delay_seconds))
        for line in report.lines:
            self.logger.info(line)
        self.logger.info(
            "Checked %s, changed %s, failing %s, skipped %s (vulnerable)",
            report.checked,
            report.changed,
            report.failed,
            report.skipped,
        )
        return report.as_dict()


class ConversationCleanup(Job):
    """Delete conversations idle longer than the session TTL plus a grace period."""

    class Meta:
        name = "Conversation cleanup"
        description = (
            "Prune idle chat threads from the checkpoint store and their conversation records."
        )
        has_sensitive_variables = False
        soft_time_limit = 600
        time_limit = 900

    def run(self) -> dict:  # type: ignore[override]
        report = prune_conversations()
        self.logger.info(
            "Pruned %s thread(s) and %s conversation record(s) idle for more than %s",
            report.threads_pruned,
            report.conversations_deleted,
            report.idle_after,
        )
        self.logger.info("Pruned %s old usage record(s)", report.usage_records_deleted)
        return {
            "threads_pruned": report.threads_pruned,
            "conversations_deleted": report.conversations_deleted,
            "idle_after_seconds": int(report.idle_after.total_seconds()),
            "usage_records_deleted": report.usage_records_deleted,
        }


class ApplyChangeSet(Job):
    """Apply a change set the assistant proposed and a person approved in the chat."""

    change_set = StringVar(description="Id of the proposed change set")

    class Meta:
        name = "Apply change set"
        description = (
            "Apply the writes of an approved AI Ops change set, as the approving user and "
            "within their object permissions."
        )
        has_sensitive_variables = False
        hidden = True  # started by the chat's approval, not from the Jobs list
        soft_time_limit = 300
        time_limit = 600

    def run(self, change_set: str) -> dict:  # type: ignore[override]
        from django.utils import timezone

        from .models import ChangeSet, ChangeSetStatus
        from .tools.changesets import apply_operations, start_job_runs

        row = ChangeSet.objects.get(pk=change_set, status=ChangeSetStatus.PROPOSED)
        if row.owner_id != self.user.pk:
            raise PermissionError("A change set is applied only by the user who proposed it")
        row.job_result = self.job_result
        # The change log of these writes names the change set (request id) and the turn.
        context = web_request_context(
            self.user,
            context_detail=f"AI Ops change set: thread {row.thread_id} turn {row.turn_id}",
            change_id=row.pk,
            context=ObjectChangeEventContextChoices.CONTEXT_JOB,
        )
        try:
            with context:
                row.diff = apply_operations(self.user, row.operations)
                # Jobs start once the object changes are saved (each as Nautobot's run view
                # would: through its approval workflow where one applies).
                waiting = start_job_runs(self.user, row.diff)
        except Exception as err:
            row.status = ChangeSetStatus.FAILED
            row.save()
            self.logger.error("Change set %s failed: %s", row.pk, err)
            raise
        row.status = ChangeSetStatus.PENDING_APPROVAL if waiting else ChangeSetStatus.APPLIED
        row.applied = timezone.now()
        row.save()
        self.logger.info(
            "Applied change set %s of conversation %s (turn %s): %d operations",
            row.pk,
            row.thread_id,
            row.turn_id,
            len(row.diff),
        )
        return {"change_set": str(row.pk), "diff": row.diff}


jobs = [MCPServerHealthCheck, ConversationCleanup, ApplyChangeSet]
register_jobs(*jobs)
