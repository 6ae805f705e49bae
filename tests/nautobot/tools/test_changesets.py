"""Writes happen only through an approved change set, applied by a Job, linked to the turn."""

from __future__ import annotations

import dataclasses
import json

from nautobot.apps.testing import TransactionTestCase
from nautobot.dcim.models import Device, Interface
from nautobot.extras.models import Job, JobResult, ObjectChange, Status
from nautobot.extras.models.jobs import JobQueue
from nautobot.extras.utils import refresh_job_model_from_job_class

from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage
from aiops_nautobot.jobs import ApplyChangeSet
from aiops_nautobot.models import ChangeSet
from aiops_nautobot.services.chat import prepare_chat, prepare_resume, run_chat, run_resume

from ..engine_fixtures import app_settings, offline_model
from .network import grant, seed_network, viewer

NEW_DESCRIPTION = "shut by the assistant"


def with_function(chat, reply):
    """``chat`` answered by the ``function`` model ``reply``."""
    choice = dataclasses.replace(
        chat.plan.model, spec="function:script", options={"function": reply}
    )
    return dataclasses.replace(chat, plan=dataclasses.replace(chat.plan, model=choice))


def script(interface_id: str):
    """Propose a description change, then apply it; report what the apply call returned."""

    def reply(request):
        results = [m for m in request.messages if isinstance(m, ToolResultMessage)]
        if not results:
            operation = {
                "action": "update",
                "model": "dcim.interface",
                "id": interface_id,
                "data": {"description": NEW_DESCRIPTION},
            }
            call = ToolCall(
                id="propose",
                name="nautobot_propose_change_set",
                arguments={"operations": [operation], "summary": "describe Gi0/0"},
            )
            return AssistantMessage(content="", tool_calls=[call])
        last = results[-1]
        if last.name == "nautobot_propose_change_set" and not last.is_error:
            change_set = json.loads(last.text)["change_set"]
            call = ToolCall(
                id="apply", name="nautobot_apply_change_set", arguments={"change_set": change_set}
            )
            return AssistantMessage(content="", tool_calls=[call])
        return f"apply: {'error' if last.is_error else 'ok'}: {last.text[:300]}"

    return reply


class ChangeSetTest(TransactionTestCase):
    def setUp(self):
        super().setUp()
        net = seed_network()
        self.interface = net.interfaces["ams01-core-01:Gi0/0"]
        self.user = viewer()
        grant(self.user, Device)
        grant(self.user, Status)
        grant(self.user, Interface, actions=("view", "change"))
        grant(self.user, Job, actions=("view", "run"))
        JobQueue.objects.get_or_create(name="default", defaults={"queue_type": "celery"})
        self.job, _ = refresh_job_model_from_job_class(Job, ApplyChangeSet, JobQueue)
        self.job.enabled = True
        self.job.save()
        offline_model()
        self.settings = app_settings(checkpoint_url="memory://", native_tools={"writes": True})
        self.settings.enable()
        self.addCleanup(self.settings.disable)

    def description(self) -> str:
        return Interface.objects.get(pk=self.interface.pk).description

    def paused(self) -> dict:
        chat = with_function(
            prepare_chat(self.user, "Describe Gi0/0"), script(str(self.interface.pk))
        )
        reply = run_chat(chat)
        self.assertEqual(reply["status"], "pending_approval", reply)
        [pending] = reply["pending_approval"]
        self.assertEqual(pending["name"], "nautobot_apply_change_set")
        return reply

    def resume(self, reply: dict, **decision) -> dict:
        chat = prepare_resume(self.user, reply["thread_id"], pause_id=reply["pause_id"], **decision)
        return run_resume(with_function(chat, script(str(self.interface.pk))))

    def test_a_write_without_approval_never_happens(self):
        reply = self.paused()
        [propose] = [c for c in reply["tool_calls"] if c["name"] == "nautobot_propose_change_set"]
        diff = json.loads(propose["result"])["dry_run_diff"]
        self.assertEqual(diff[0]["changes"]["description"], ["ams01 uplink 0", NEW_DESCRIPTION])
        self.assertEqual(self.description(), "ams01 uplink 0")  # the dry run was rolled back
        self.assertFalse(JobResult.objects.exists())
        rejected = self.resume(reply, reject=["apply"])
        self.assertEqual(rejected["status"], "completed")
        self.assertTrue(rejected["output"].startswith("apply: error"), rejected["output"])
        self.assertEqual(self.description(), "ams01 uplink 0")
        self.assertEqual(ChangeSet.objects.get().status, "proposed")

    def test_an_approved_write_lands_with_its_change_log_linked_to_the_turn(self):
        reply = self.paused()
        done = self.resume(reply, approve=["apply"])
        self.assertEqual(done["status"], "completed", done)
        self.assertTrue(done["output"].startswith("apply: ok"), done["output"])
        self.assertEqual(self.description(), NEW_DESCRIPTION)
        row = ChangeSet.objects.get()
        self.assertEqual(
            (row.status, row.thread_id, row.owner), ("applied", reply["thread_id"], self.user)
        )
        self.assertTrue(row.turn_id)
        [change] = ObjectChange.objects.filter(changed_object_id=self.interface.pk)
        self.assertEqual(change.request_id, row.pk)  # change log → change set → thread and turn
        self.assertEqual(change.change_context, "job")
        self.assertEqual(
            change.change_context_detail,
            f"AI Ops change set: thread {reply['thread_id']} turn {row.turn_id}",
        )
        self.assertEqual(row.job_result.status, "SUCCESS")
        self.assertEqual(change.user, self.user)

    def test_without_change_permission_the_proposal_is_refused(self):
        other = viewer("reader")
        grant(other, Interface)
        grant(other, Job, actions=("view", "run"))
        chat = with_function(prepare_chat(other, "Describe Gi0/0"), script(str(self.interface.pk)))
        reply = run_chat(chat)
        [propose] = reply["tool_calls"]
        self.assertTrue(propose["is_error"])
        self.assertIn("that you may update", propose["result"])
        self.assertFalse(ChangeSet.objects.exists())
        self.assertEqual(self.description(), "ams01 uplink 0")
