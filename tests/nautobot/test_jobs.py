"""The scheduled jobs, run in-process with ``run_job_for_testing``."""

from __future__ import annotations

import socket
from datetime import timedelta
from unittest import mock

from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone
from nautobot.apps.testing import TestCase, run_job_for_testing
from nautobot.extras.choices import JobResultStatusChoices
from nautobot.extras.models import Job

from aiops_core.checkpoint.base import now_micros
from aiops_nautobot.models import Conversation, MCPServer
from aiops_nautobot.services.chat import prepare_chat, run_chat

from .engine_fixtures import checkpoint_store, load_thread, offline_model, time_server

# Job logs normally go through a second connection ("job_logs") so that they survive a rollback;
# inside a test transaction that connection cannot see the JobResult row. Log on "default".
job_logs_on_default = mock.patch("nautobot.extras.models.jobs.JOB_LOGS", None)


def run(job_class_name: str, **job_kwargs):
    job = Job.objects.get(module_name="aiops_nautobot.jobs", job_class_name=job_class_name)
    with job_logs_on_default:
        result = run_job_for_testing(job, job_kwargs=job_kwargs)
    result.refresh_from_db()
    return result


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MCPServerHealthCheckTest(TestCase):
    def test_statuses_follow_the_probes_and_vulnerable_servers_are_left_alone(self):
        url = f"http://127.0.0.1:{closed_port()}"
        up = time_server(status="unhealthy")  # a real stdio server: answers an MCP ping
        down = MCPServer.objects.create(name="down", status="healthy", protocol="http", url=url)
        kill_switch = MCPServer.objects.create(
            name="kill-switch", status="vulnerable", protocol="http", url=url
        )
        result = run("MCPServerHealthCheck", rechecks=1, recheck_delay_seconds=0)
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, result.result)
        for row in (up, down, kill_switch):
            row.refresh_from_db()
        self.assertEqual(up.status, "healthy")
        self.assertEqual(up.last_error, "")
        self.assertIsNotNone(up.last_checked)
        self.assertEqual(down.status, "unhealthy")
        self.assertNotEqual(down.last_error, "")
        self.assertEqual(kill_switch.status, "vulnerable")
        self.assertIsNone(kill_switch.last_checked)
        self.assertEqual(result.result["checked"], 2)
        self.assertEqual(result.result["changed"], 2)
        self.assertEqual(result.result["skipped"], 1)
        self.assertTrue(result.result["cache_cleared"])

    def test_an_unchanged_round_changes_nothing(self):
        time_server(status="healthy")
        result = run("MCPServerHealthCheck", rechecks=1, recheck_delay_seconds=0)
        self.assertEqual(result.result["changed"], 0)
        self.assertFalse(result.result["cache_cleared"])


@override_settings(PLUGINS_CONFIG={"aiops_nautobot": {"checkpoint_url": "memory://?ttl=86400000"}})
class ConversationCleanupTest(TestCase):
    def chat(self, user, message: str) -> str:
        return run_chat(prepare_chat(user, message))["thread_id"]

    def test_prunes_idle_conversations_and_keeps_recent_ones(self):
        offline_model()
        user = get_user_model().objects.create_user(username="operator")
        store, day = checkpoint_store(), 86_400 * 10**6
        store.clock = lambda: now_micros() - day  # the store's clock seam: write it a day ago
        try:
            old = self.chat(user, "yesterday's question")
        finally:
            store.clock = now_micros
        Conversation.objects.filter(thread_id=old).update(
            last_activity=timezone.now() - timedelta(days=1)
        )
        recent = self.chat(user, "today's question")

        result = run("ConversationCleanup")
        self.assertEqual(result.status, JobResultStatusChoices.STATUS_SUCCESS, result.result)
        self.assertEqual(result.result["threads_pruned"], 1)
        self.assertEqual(result.result["conversations_deleted"], 1)
        self.assertFalse(Conversation.objects.filter(thread_id=old).exists())
        self.assertIsNone(load_thread(old))
        self.assertTrue(Conversation.objects.filter(thread_id=recent).exists())
        self.assertIsNotNone(load_thread(recent))


class ScheduleCommandTest(TestCase):
    def test_creates_the_schedules_once(self):
        from io import StringIO

        from django.core.management import call_command
        from nautobot.extras.models import ScheduledJob

        get_user_model().objects.create_superuser(username="admin", password="x" * 12)
        first, second = StringIO(), StringIO()
        call_command("aiops_schedule_jobs", stdout=first)
        call_command("aiops_schedule_jobs", stdout=second)
        schedules = ScheduledJob.objects.filter(name__startswith="AI Ops: ")
        self.assertEqual(
            sorted((s.name, s.crontab) for s in schedules),
            [
                ("AI Ops: MCP server health check", "*/5 * * * *"),
                ("AI Ops: conversation cleanup", "7 * * * *"),
            ],
        )
        self.assertIn("scheduled", first.getvalue())
        self.assertEqual(second.getvalue().count("already scheduled"), 2)
        self.assertTrue(all(s.job_model.enabled for s in schedules))
