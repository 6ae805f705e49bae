"""Migrations are complete and the app keeps the dependency direction."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO

from django.core.management import call_command
from django.test import SimpleTestCase
from nautobot.apps.testing import TestCase


class MigrationsTest(TestCase):
    def test_no_missing_migrations(self):
        out = StringIO()
        try:
            call_command("makemigrations", "aiops_nautobot", check=True, dry_run=True, stdout=out)
        except SystemExit:
            self.fail(f"Model changes without a migration:\n{out.getvalue()}")


class LayeringTest(SimpleTestCase):
    def test_core_imports_no_django_or_nautobot(self):
        code = (
            "import sys, aiops_core, aiops_core.middleware, aiops_core.providers;"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'django', 'nautobot', 'aiops_nautobot'}); print(bad); sys.exit(bool(bad))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
