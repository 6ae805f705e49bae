"""Scheduled jobs of the app: thin wrappers around :mod:`aiops_nautobot.services`.

Schedule both after installing (see the README, or run
``nautobot-server aiops_schedule_jobs``): the MCP health check every 5 minutes, the
conversation cleanup every hour.
"""

from __future__ import annotations

from nautobot.apps.jobs import IntegerVar, Job, register_jobs

from .services.cleanup import prune_conversations
from .services.health import check_mcp_servers

name = "AI Ops"  # the jobs' group in the UI


class MCPServerHealthCheck(Job):
    """Check every MCP server (except vulnerable ones) and update its status."""

    rechecks = IntegerVar(
        default=2, min_value=0, max_value=10, description="Re-checks that must confirm a change"
    )
    recheck_delay_seconds = IntegerVar(
        default=5, min_value=0, max_value=300, description="Seconds between re-checks"
    )

    class Meta:
        name = "MCP server health check"
        description = (
            "Probe MCP servers and mark them healthy or unhealthy (vulnerable ones are skipped)."
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


jobs = [MCPServerHealthCheck, ConversationCleanup]
register_jobs(*jobs)
