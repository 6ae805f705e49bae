"""Change-logged writes through the REST API with psycopg 3 beside psycopg2.

Django prefers psycopg 3 when both drivers are installed; a deadlock in Nautobot's change logging
under that combination has been reported elsewhere. These writes run for real (committed, from
two threads at once) and every one of them must leave its ObjectChange row, within a deadline.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse
from nautobot.apps.testing import APITransactionTestCase
from nautobot.extras.models import ObjectChange
from rest_framework import status
from rest_framework.test import APIClient

from aiops_nautobot.models import LLMProvider

DEADLINE_SECONDS = 60


class ChangeLoggedWritesTest(APITransactionTestCase):
    def setUp(self):
        super().setUp()
        self.list_url = reverse("plugins-api:aiops_nautobot-api:llmprovider-list")

    def write_cycle(self, prefix: str, rounds: int = 3) -> None:
        """Create, update and delete ``rounds`` providers named ``prefix-N``."""
        client = APIClient()
        for i in range(rounds):
            name = f"{prefix}-{i}"
            response = client.post(self.list_url, {"name": name}, format="json", **self.header)
            self.assertHttpStatus(response, status.HTTP_201_CREATED)
            detail = response.json()["url"]
            response = client.patch(
                detail, {"description": "changed"}, format="json", **self.header
            )
            self.assertHttpStatus(response, status.HTTP_200_OK)
            self.assertHttpStatus(client.delete(detail, **self.header), status.HTTP_204_NO_CONTENT)

    def in_thread(self, prefix: str) -> None:
        try:
            self.write_cycle(prefix)
        finally:
            connection.close()  # each thread has its own connection; leave none open

    def changes(self, prefix: str) -> dict[str, int]:
        rows = ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(LLMProvider),
            object_repr__startswith=f"{prefix}-",
        )
        return {
            action: rows.filter(action=action).count() for action in ("create", "update", "delete")
        }

    def test_sequential_writes_are_change_logged(self):
        self.write_cycle("seq")
        self.assertEqual(self.changes("seq"), {"create": 3, "update": 3, "delete": 3})
        self.assertFalse(LLMProvider.objects.filter(name__startswith="seq-").exists())

    def test_concurrent_writes_from_two_threads_do_not_deadlock(self):
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(self.in_thread, prefix) for prefix in ("left", "right")]
            for future in futures:
                future.result(timeout=DEADLINE_SECONDS)
        for prefix in ("left", "right"):
            self.assertEqual(self.changes(prefix), {"create": 3, "update": 3, "delete": 3})
