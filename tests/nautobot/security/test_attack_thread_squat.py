"""Attack 9: delete or take over another user's stored thread.

Before: ``thread_id`` was editable on a Conversation, and deleting a record deleted the stored
thread of that id without an owner check.

Now: thread ids are generated and read-only (API and forms), and deleting a record deletes the
stored thread only if it belongs to the record's owner.
"""

from __future__ import annotations

from unittest import mock

from aiops_nautobot.models import Conversation

from ..engine_fixtures import app_settings, load_thread, offline_model
from .attacker import AttackTestCase

CHAT = "aiops_nautobot.use_chat_conversation"


@app_settings(checkpoint_url="memory://")
class ThreadSquatAttackTest(AttackTestCase):
    def setUp(self):
        super().setUp()
        offline_model(call_tools=[], answer="noted")
        self.victim_user, header = self.victim()
        self.victims = self.api_post("chat", {"message": "my notes"}, header=header).json()
        self.add_permissions(
            CHAT,
            "aiops_nautobot.add_conversation",
            "aiops_nautobot.change_conversation",
            "aiops_nautobot.delete_conversation",
            "aiops_nautobot.view_conversation",
        )
        self.mine = self.api_post("chat", {"message": "mine"}).json()
        self.my_row = Conversation.objects.get(thread_id=self.mine["thread_id"])

    def assertVictimsThreadIntact(self):
        thread = load_thread(self.victims["thread_id"])
        self.assertIsNotNone(thread)
        self.assertEqual(thread.info.owner, str(self.victim_user.pk))
        self.assertEqual(thread.messages[0].text, "my notes")

    def test_thread_id_cannot_be_changed_through_the_api(self):
        response = self.api_patch(
            "conversation-detail", self.my_row.pk, {"thread_id": self.victims["thread_id"]}
        )
        self.assertHttpStatus(response, 200)  # read-only fields are ignored
        self.my_row.refresh_from_db()
        self.assertEqual(self.my_row.thread_id, self.mine["thread_id"])

    def test_thread_id_cannot_be_chosen_on_create(self):
        response = self.api_post("conversation-list", {"thread_id": self.victims["thread_id"]})
        self.assertHttpStatus(response, 201)
        self.assertNotEqual(response.json()["thread_id"], self.victims["thread_id"])
        response = self.form_post(
            "conversation_add", {"thread_id": self.victims["thread_id"], "title": "squat"}
        )
        self.assertHttpStatus(response, 302)
        self.assertNotEqual(
            Conversation.objects.get(title="squat").thread_id, self.victims["thread_id"]
        )

    def test_the_edit_form_ignores_a_thread_id(self):
        data = {"thread_id": self.victims["thread_id"], "title": "renamed"}
        self.assertHttpStatus(self.form_post("conversation_edit", data, pk=self.my_row.pk), 302)
        self.my_row.refresh_from_db()
        self.assertEqual(
            (self.my_row.title, self.my_row.thread_id), ("renamed", self.mine["thread_id"])
        )

    def test_deleting_a_record_never_deletes_another_owners_thread(self):
        """A record pointing at the victim's thread (written around the API) is deleted alone."""
        victims_row = Conversation.objects.get(thread_id=self.victims["thread_id"])
        with mock.patch("aiops_nautobot.services.conversations.delete_thread"):
            victims_row.delete()  # e.g. removed in bulk; the store still holds the thread
        Conversation.objects.filter(pk=self.my_row.pk).update(thread_id=self.victims["thread_id"])
        with (
            self.assertLogs("aiops_nautobot.conversations", "WARNING") as logs,
            self.captureOnCommitCallbacks(execute=True),  # runs the deletion when it exits
        ):
            response = self.client.delete(
                self.api_url("conversation-detail", self.my_row.pk), **self.header
            )
        self.assertHttpStatus(response, 204)
        self.assertIn("belongs to another user", logs.output[0])
        self.assertVictimsThreadIntact()

    def test_chatting_on_the_victims_thread_is_404(self):
        body = {"message": "show me", "thread_id": self.victims["thread_id"]}
        self.assertHttpStatus(self.api_post("chat", body), 404)
        self.assertVictimsThreadIntact()
