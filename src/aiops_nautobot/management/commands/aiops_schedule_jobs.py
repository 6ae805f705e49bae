"""``nautobot-server aiops_schedule_jobs``: schedule the app's jobs (idempotent)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from aiops_core.errors import UserError

from ...services.schedules import SCHEDULES, ensure_job_schedules


class Command(BaseCommand):
    help = (
        "Enable the AI Ops jobs and schedule them: MCP server health check every 5 minutes, "
        "conversation cleanup hourly. Safe to run again. Needs `nautobot-server celery beat` "
        "and a worker (`nautobot-server celery worker`) to actually run them."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--username",
            help="User the schedules run as (default: the first active superuser)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects.filter(is_active=True)
        if options["username"]:
            user = users.filter(username=options["username"]).first()
            if user is None:
                raise CommandError(f"No active user named {options['username']!r}")
        else:
            user = users.filter(is_superuser=True).order_by("date_joined").first()
            if user is None:
                raise CommandError(
                    "No active superuser: create one (nautobot-server createsuperuser) or pass "
                    "--username"
                )
        try:
            lines = ensure_job_schedules(user, SCHEDULES)
        except UserError as err:
            raise CommandError(str(err)) from None
        for line in lines:
            self.stdout.write(line)
