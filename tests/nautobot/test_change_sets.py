"""Change sets over the REST API and in the UI, and a conversation's link to its change sets.

Users act without superuser rights: everybody sees their own change sets (and the change-log
entries they may view); a ``view`` object permission on change sets shows others' rows within its
constraints; anybody else's row is 404.
"""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITestCase, TestCase
from nautobot.extras.choices import ObjectChangeActionChoices
from nautobot.extras.models import ObjectChange, Status
from nautobot.users.models import ObjectPermission, Token
from rest_framework import status

from aiops_nautobot import models

API = "plugins-api:aiops_nautobot-api"


def change_set(owner, thread_id: str, summary: str, **fields) -> models.ChangeSet:
    return models.ChangeSet.objects.create(
        owner=owner,
        thread_id=thread_id,
        turn_id="turn-1",
        summary=summary,
        operations=[{"action": "update", "model": "extras.status", "id": "x", "data": {}}],
        diff=[{"action": "update", "object": "extras.status:x", "changes": {"color": ["a", "b"]}}],
        **fields,
    )


def change_log_entry(user, row: models.ChangeSet, name: str) -> ObjectChange:
    """A change-log entry as the Apply change set job writes it (request id = change set)."""
    obj = Status.objects.create(name=name, color="ff0000")
    return ObjectChange.objects.create(
        user=user,
        user_name=user.username,
        request_id=row.pk,
        action=ObjectChangeActionChoices.ACTION_CREATE,
        changed_object_type=ContentType.objects.get_for_model(Status),
        changed_object_id=obj.pk,
        object_repr=name,
        object_data={"name": name},
        change_context="job",
    )


def grant_view(user, model: type, constraints: dict | None = None) -> None:
    permission = ObjectPermission.objects.create(
        name=f"view {model._meta.label_lower} {uuid.uuid4().hex[:6]}",
        actions=["view"],
        constraints=constraints,
    )
    permission.object_types.add(ContentType.objects.get_for_model(model))
    permission.users.add(user)


class ChangeSetAPITest(APITestCase):
    def setUp(self):
        super().setUp()
        self.other = get_user_model().objects.create_user(username="someone-else")
        self.mine = change_set(self.user, "thread-mine", "my change")
        self.theirs = change_set(self.other, "thread-theirs", "their change")
        self.list_url = reverse(f"{API}:changeset-list")

    def detail_url(self, row):
        return reverse(f"{API}:changeset-detail", kwargs={"pk": row.pk})

    def summaries(self, query: str = "") -> set[str]:
        response = self.client.get(self.list_url + query, **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        return {row["summary"] for row in response.json()["results"]}

    def test_a_user_without_permissions_sees_only_their_own(self):
        self.assertEqual(self.summaries(), {"my change"})
        response = self.client.get(self.detail_url(self.mine), **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        body = response.json()
        self.assertEqual(body["diff"], self.mine.diff)
        self.assertEqual(body["status"], "proposed")
        self.assertTrue(body["change_log_url"].endswith(f"?request_id={self.mine.pk}"))
        response = self.client.get(self.detail_url(self.theirs), **self.header)
        self.assertHttpStatus(response, status.HTTP_404_NOT_FOUND)
        self.assertNotIn("their change", response.content.decode())

    def test_an_id_that_is_not_a_uuid_is_a_404(self):
        # Found by the OpenAPI fuzz: change sets have no natural key, and Nautobot read "@" as one.
        for bad in ("@", "a:b", "not-a-uuid"):
            response = self.client.get(f"{self.list_url}{bad}/", **self.header)
            self.assertHttpStatus(response, status.HTTP_404_NOT_FOUND)
            self.assertIn("no change set has the id", response.json()["detail"])

    def test_a_view_permission_shows_others_within_its_constraints(self):
        third = get_user_model().objects.create_user(username="third")
        change_set(third, "thread-third", "third change")
        grant_view(self.user, models.ChangeSet, {"owner__username": "someone-else"})
        self.assertEqual(self.summaries(), {"my change", "their change"})
        response = self.client.get(self.detail_url(self.theirs), **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)

    def test_filters_owner_status_and_thread(self):
        grant_view(self.user, models.ChangeSet)
        change_set(self.user, "thread-mine", "applied one", status="applied")
        self.assertEqual(self.summaries("?owner=someone-else"), {"their change"})
        self.assertEqual(self.summaries("?status=applied"), {"applied one"})
        self.assertEqual(self.summaries("?thread_id=thread-mine"), {"my change", "applied one"})

    def test_the_api_is_read_only(self):
        grant_view(self.user, models.ChangeSet)
        self.add_permissions("aiops_nautobot.change_changeset", "aiops_nautobot.add_changeset")
        response = self.client.patch(
            self.detail_url(self.mine), {"status": "applied"}, format="json", **self.header
        )
        self.assertHttpStatus(response, status.HTTP_405_METHOD_NOT_ALLOWED)
        response = self.client.post(self.list_url, {"summary": "x"}, format="json", **self.header)
        self.assertHttpStatus(response, status.HTTP_405_METHOD_NOT_ALLOWED)
        self.mine.refresh_from_db()
        self.assertEqual(self.mine.status, "proposed")

    def test_anonymous_is_denied(self):
        self.assertHttpStatus(self.client.get(self.list_url), status.HTTP_403_FORBIDDEN)

    def test_a_conversation_list_reads_the_change_sets_in_one_query(self):
        self.add_permissions("aiops_nautobot.view_conversation")
        url = reverse(f"{API}:conversation-list")

        def queries_for_list(conversations: int) -> int:
            for i in range(conversations):
                models.Conversation.objects.create(
                    thread_id=f"t-{conversations}-{i}", owner=self.user
                )
                change_set(self.user, f"t-{conversations}-{i}", f"change {conversations}-{i}")
            with CaptureQueriesContext(connection) as captured:
                response = self.client.get(url, **self.header)
            listed = {c["thread_id"]: c["change_sets"] for c in response.json()["results"]}
            for i in range(conversations):
                [row] = listed[f"t-{conversations}-{i}"]
                self.assertEqual(row["summary"], f"change {conversations}-{i}")
            models.Conversation.objects.all().delete()
            models.ChangeSet.objects.filter(thread_id__startswith="t-").delete()
            return len(captured)

        queries_for_list(1)  # warms Nautobot's caches (content types, permissions)
        self.assertEqual(queries_for_list(1), queries_for_list(4))

    def test_the_conversation_lists_its_change_sets(self):
        self.add_permissions("aiops_nautobot.view_conversation")
        conversation = models.Conversation.objects.create(thread_id="thread-mine", owner=self.user)
        models.Conversation.objects.create(thread_id="thread-theirs", owner=self.other)
        url = reverse(f"{API}:conversation-detail", kwargs={"pk": conversation.pk})
        response = self.client.get(url, **self.header)
        self.assertHttpStatus(response, status.HTTP_200_OK)
        [listed] = response.json()["change_sets"]
        self.assertEqual(listed["id"], str(self.mine.pk))
        self.assertEqual(listed["status"], "proposed")
        self.assertTrue(listed["change_log_url"].endswith(f"?request_id={self.mine.pk}"))
        other_header = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=self.other).key}"}
        response = self.client.get(url, **other_header)  # not theirs, and no permission
        self.assertNotIn(str(self.mine.pk), response.content.decode())


class ChangeSetUITest(TestCase):
    def setUp(self):
        super().setUp()
        self.other = get_user_model().objects.create_user(username="someone-else")
        self.mine = change_set(self.user, "thread-mine", "my change", status="applied")
        self.theirs = change_set(self.other, "thread-theirs", "their change")
        self.entry = change_log_entry(self.user, self.mine, "made-by-my-change")

    def list_page(self) -> str:
        url = reverse("plugins:aiops_nautobot:changeset_list")
        return self.client.get(url, HTTP_HX_REQUEST="true").content.decode()

    def test_the_list_shows_own_change_sets_only(self):
        page = self.list_page()
        self.assertIn("my change", page)
        self.assertIn(f"?request_id={self.mine.pk}", page)  # link to its change log
        self.assertNotIn("their change", page)
        self.assertHttpStatus(self.client.get(self.theirs.get_absolute_url()), 404)

    def test_the_detail_page_shows_the_diff_and_the_change_log_entries(self):
        grant_view(self.user, ObjectChange)
        page = self.client.get(self.mine.get_absolute_url()).content.decode()
        self.assertIn("my change", page)
        self.assertIn("extras.status:x", page)  # the diff
        self.assertIn(self.entry.get_absolute_url(), page)  # the entry's change-log detail
        self.assertIn("made-by-my-change", page)

    def test_change_log_entries_follow_the_users_object_permissions(self):
        page = self.client.get(self.mine.get_absolute_url()).content.decode()
        self.assertIn("extras.status:x", page)
        self.assertNotIn(self.entry.get_absolute_url(), page)

    def test_a_view_permission_shows_others(self):
        grant_view(self.user, models.ChangeSet)
        self.assertIn("their change", self.list_page())
        self.assertHttpStatus(self.client.get(self.theirs.get_absolute_url()), 200)

    def test_anonymous_is_sent_to_log_in(self):
        self.client.logout()
        response = self.client.get(self.mine.get_absolute_url())
        self.assertHttpStatus(response, 302)
        self.assertIn("login", response["Location"])

    def test_the_conversation_page_shows_its_change_sets(self):
        self.add_permissions("aiops_nautobot.view_conversation")
        conversation = models.Conversation.objects.create(thread_id="thread-mine", owner=self.user)
        page = self.client.get(conversation.get_absolute_url()).content.decode()
        self.assertIn("my change", page)
        self.assertIn(self.mine.get_absolute_url(), page)
        self.assertIn(f"?request_id={self.mine.pk}", page)
        self.assertNotIn("their change", page)
        hidden = models.Conversation.objects.create(thread_id="thread-theirs", owner=self.other)
        self.assertHttpStatus(self.client.get(hidden.get_absolute_url()), 404)


class ChangeSetOpenAPISchemaTest(TestCase):
    """The change-set endpoints and the conversation's ``change_sets`` are in the API docs."""

    def test_paths_filters_and_fields(self):
        from django.urls import include, path
        from drf_spectacular.generators import SchemaGenerator

        from aiops_nautobot.api import urls

        patterns = [path("api/plugins/ai-ops/", include(urls.urlpatterns))]
        schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
        paths = schema["paths"]
        self.assertEqual(set(paths["/plugins/ai-ops/change-sets/"]), {"get"})
        self.assertEqual(set(paths["/plugins/ai-ops/change-sets/{id}/"]), {"get"})
        parameters = {p["name"] for p in paths["/plugins/ai-ops/change-sets/"]["get"]["parameters"]}
        self.assertLessEqual({"owner", "status", "thread_id"}, parameters)
        components = schema["components"]["schemas"]
        self.assertIn("change_log_url", components["ChangeSet"]["properties"])
        change_sets = components["Conversation"]["properties"]["change_sets"]
        self.assertEqual(change_sets["type"], "array")
        self.assertIn("change_log_url", change_sets["items"]["properties"])
