"""Attack 7: read other users' messages from the change log, webhooks and job logs.

Before: a conversation's title was the first 100 characters of its first message, so the text
went to Nautobot's change log (readable with ``view_objectchange``) and to webhooks.

Now: the record's title is neutral (when the conversation started); the first message is the
thread's title in the checkpoint store, which only its owner reads (``conversations/{id}/
messages/``). Webhooks and event subscribers receive exactly the ObjectChange's serialised data
and snapshots, which these tests read.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from nautobot.extras.models import JobLogEntry, ObjectChange
from nautobot.users.models import ObjectPermission

from aiops_nautobot.models import Conversation, LLMModel

from ..engine_fixtures import app_settings, offline_model
from ..test_jobs import run
from .attacker import AttackTestCase

CHAT = "aiops_nautobot.use_chat_conversation"
PRIVATE = "merger plans: acquire Initech on 2027-03-01"


@app_settings(checkpoint_url="memory://")
class ChangeLogLeakAttackTest(AttackTestCase):
    def setUp(self):
        super().setUp()
        offline_model(call_tools=[], answer="noted")
        offline_model("other", default=False, call_tools=[], answer="noted")
        # The victim chats three times: a create of the record, a turn that only moves its
        # activity (not change-logged), and one on another model (an update of the record).
        self.victim_user, header = self.victim()
        models = ObjectPermission.objects.create(name="models", actions=["view"])
        models.object_types.add(ContentType.objects.get_for_model(LLMModel))
        models.users.add(self.victim_user)
        first = self.api_post("chat", {"message": PRIVATE}, header=header).json()
        again = {"message": PRIVATE, "thread_id": first["thread_id"]}
        self.api_post("chat", again, header=header)
        self.api_post("chat", {**again, "model": "test:other"}, header=header)
        self.thread_id = first["thread_id"]
        self.victim_header = header
        # The attacker may read the change log, nothing else.
        self.add_permissions("extras.view_objectchange")

    def test_the_change_log_holds_no_message_text(self):
        changes = ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(Conversation)
        )
        self.assertEqual(changes.count(), 2)
        for change in changes:
            snapshots = change.get_snapshots()  # what webhooks and event subscribers receive
            for data in (change.object_data, change.object_data_v2, snapshots, change.object_repr):
                self.assertNotIn("Initech", str(data))
        response = self.client.get("/api/extras/object-changes/?depth=1", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["count"], 2)
        self.assertNotIn("Initech", response.content.decode())

    def test_only_the_owner_reads_the_title(self):
        conversation = Conversation.objects.get(thread_id=self.thread_id)
        self.assertNotIn("Initech", conversation.title)
        self.add_permissions("aiops_nautobot.view_conversation")
        url = self.api_url("conversation-messages", conversation.pk)
        self.assertHttpStatus(self.client.get(url, **self.header), 404)
        permission = ObjectPermission.objects.get(name="chat")
        permission.actions = ["use_chat", "view"]
        permission.save()
        body = self.client.get(url, **self.victim_header).json()
        self.assertEqual(body["title"], PRIVATE)

    def test_job_logs_hold_no_message_text(self):
        result = run("ConversationCleanup")
        logs = " ".join(
            JobLogEntry.objects.filter(job_result=result).values_list("message", flat=True)
        )
        self.assertIn("Pruned", logs)
        self.assertNotIn("Initech", logs + str(result.result))
