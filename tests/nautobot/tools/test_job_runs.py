"""Change sets that run a named Job: checked as the user when proposed, run only when applied,
through Nautobot's Job approval workflow where one applies."""

from __future__ import annotations

import json

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import override_settings
from nautobot.apps.jobs import register_jobs
from nautobot.apps.testing import TransactionTestCase
from nautobot.dcim.models import Interface
from nautobot.extras.choices import ApprovalWorkflowStateChoices, ScheduledJobStateChoices
from nautobot.extras.models import (
    ApprovalWorkflow,
    ApprovalWorkflowDefinition,
    ApprovalWorkflowStageDefinition,
    ApprovalWorkflowStageResponse,
    Job,
    JobResult,
    ScheduledJob,
)
from nautobot.extras.models.jobs import JobQueue
from nautobot.extras.utils import refresh_job_model_from_job_class

from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage
from aiops_nautobot.jobs import ApplyChangeSet
from aiops_nautobot.models import ChangeSet
from aiops_nautobot.services.chat import prepare_chat, prepare_resume, run_chat, run_resume
from aiops_nautobot.tools.access import ToolInputError
from aiops_nautobot.tools.changesets import apply_change_set, propose_change_set

from ..engine_fixtures import app_settings, offline_model
from . import sample_jobs
from .network import grant, seed_network, viewer
from .test_changesets import with_function

THREAD = "thread-jobs"


# Nautobot drops the Jobs of modules outside JOBS_ROOT and apps when it reloads that directory
# (before every run): the test Jobs stay registered only without one.
@override_settings(JOBS_ROOT=None)
class JobRunChangeSetTest(TransactionTestCase):
    def setUp(self):
        super().setUp()
        register_jobs(sample_jobs.DescribeInterface, sample_jobs.TakesSecrets)
        net = seed_network()
        self.interface = net.interfaces["ams01-core-01:Gi0/0"]
        self.hidden = net.interfaces["fra01-core-01:Gi0/0"]
        self.user = viewer()
        grant(self.user, Interface, device__name="ams01-core-01")  # fra01 is not theirs
        JobQueue.objects.get_or_create(name="default", defaults={"queue_type": "celery"})
        self.jobs = {}
        for job_class in (ApplyChangeSet, sample_jobs.DescribeInterface, sample_jobs.TakesSecrets):
            job, _ = refresh_job_model_from_job_class(Job, job_class, JobQueue)
            job.enabled = True
            job.save()
            self.jobs[job_class.__name__] = job
        self.describe = self.jobs["DescribeInterface"]

    def may_run(self, *job_class_names: str) -> None:
        grant(self.user, Job, actions=("view", "run"), job_class_name__in=list(job_class_names))

    def operation(self, **data) -> dict:
        inputs = {"interface": str(self.interface.pk), "description": "set by a job", **data}
        return {"action": "run_job", "job": self.describe.class_path, "data": inputs}

    def propose(self, *operations) -> dict:
        return propose_change_set(self.user, list(operations), "describe", THREAD, "turn-1")

    def refused(self, *operations) -> str:
        with self.assertRaises(ToolInputError) as caught:
            self.propose(*operations)
        self.assertFalse(ChangeSet.objects.exists())
        return str(caught.exception)

    def description(self) -> str:
        return Interface.objects.get(pk=self.interface.pk).description

    def runs_of(self, job: Job) -> int:
        return JobResult.objects.filter(job_model=job).count()

    def test_in_the_chat_the_job_runs_only_after_the_user_approves(self):
        self.may_run("ApplyChangeSet", "DescribeInterface")
        offline_model()
        settings = app_settings(checkpoint_url="memory://", native_tools={"writes": True})
        settings.enable()
        self.addCleanup(settings.disable)
        operation = self.operation()

        def reply(request):
            results = [m for m in request.messages if isinstance(m, ToolResultMessage)]
            if not results:
                arguments = {"operations": [operation], "summary": "describe Gi0/0"}
                call = ToolCall(
                    id="propose", name="nautobot_propose_change_set", arguments=arguments
                )
                return AssistantMessage(content="", tool_calls=[call])
            if results[-1].name == "nautobot_propose_change_set":
                change_set = json.loads(results[-1].text)["change_set"]
                arguments = {"change_set": change_set}
                call = ToolCall(id="apply", name="nautobot_apply_change_set", arguments=arguments)
                return AssistantMessage(content="", tool_calls=[call])
            return f"apply: {'error' if results[-1].is_error else 'ok'}"

        paused = run_chat(with_function(prepare_chat(self.user, "Describe Gi0/0"), reply))
        self.assertEqual(paused["status"], "pending_approval", paused)
        self.assertEqual(self.runs_of(self.describe), 0)  # proposed, waiting for the user
        chat = prepare_resume(
            self.user, paused["thread_id"], pause_id=paused["pause_id"], approve=["apply"]
        )
        done = run_resume(with_function(chat, reply))
        self.assertEqual(done["output"], "apply: ok", done)
        self.assertEqual(self.description(), "set by a job")
        row = ChangeSet.objects.get()
        self.assertEqual((row.status, row.thread_id), ("applied", paused["thread_id"]))

    def test_without_the_run_permission_the_proposal_is_refused_and_nothing_runs(self):
        self.may_run("ApplyChangeSet")  # may apply change sets, not run this Job
        message = self.refused(self.operation())
        self.assertIn("that you may run", message)
        self.assertIn("'run' permission", message)
        self.assertEqual(self.runs_of(self.describe), 0)
        self.assertEqual(self.description(), "ams01 uplink 0")

    def test_an_approved_run_job_change_set_runs_the_job_as_the_user(self):
        self.may_run("ApplyChangeSet", "DescribeInterface")
        proposed = self.propose(self.operation())
        [entry] = proposed["dry_run_diff"]
        self.assertEqual(
            (entry["action"], entry["job"], entry["display"]),
            ("run_job", self.describe.class_path, "Describe interface (test)"),
        )
        self.assertEqual(
            entry["data"], {"interface": str(self.interface.pk), "description": "set by a job"}
        )
        self.assertEqual(self.runs_of(self.describe), 0)  # proposing runs nothing
        self.assertEqual(self.description(), "ams01 uplink 0")

        applied = apply_change_set(self.user, proposed["change_set"], THREAD)
        self.assertEqual(applied["status"], "applied", applied)
        self.assertEqual(self.description(), "set by a job")
        [run] = JobResult.objects.filter(job_model=self.describe)
        self.assertEqual((run.user, run.status), (self.user, "SUCCESS"))
        [entry] = ChangeSet.objects.get(pk=proposed["change_set"]).diff
        self.assertEqual((entry["state"], entry["job_result"]), ("started", str(run.pk)))
        self.assertEqual(entry["job_result_url"], run.get_absolute_url())
        self.assertFalse(ScheduledJob.objects.exists())  # no approval applies: not scheduled

    def test_object_changes_are_saved_before_the_job_starts(self):
        self.may_run("ApplyChangeSet", "DescribeInterface")
        grant(self.user, Interface, actions=("change",), device__name="ams01-core-01")
        update = {
            "action": "update",
            "model": "dcim.interface",
            "id": str(self.interface.pk),
            "data": {"description": "by the update"},
        }
        proposed = self.propose(self.operation(description="by the job"), update)
        self.assertEqual([e["action"] for e in proposed["dry_run_diff"]], ["run_job", "update"])
        apply_change_set(self.user, proposed["change_set"], THREAD)
        self.assertEqual(self.description(), "by the job")  # the Job ran last

    def test_inputs_are_validated_by_the_jobs_own_form(self):
        self.may_run("DescribeInterface")
        message = self.refused(self.operation(description="x" * 61))
        self.assertIn("description", message)
        self.assertIn("at most 60 characters", message)
        message = self.refused(self.operation(colour="red"))
        self.assertIn("colour", message)
        self.assertIn("its inputs: description, interface", message)
        message = self.refused(
            {"action": "run_job", "job": self.describe.class_path, "data": {"description": "d"}}
        )
        self.assertIn("interface: This field is required", message)

    def test_objects_given_as_inputs_must_be_visible_to_the_user(self):
        self.may_run("DescribeInterface")
        message = self.refused(self.operation(interface=str(self.hidden.pk)))
        self.assertIn("no dcim.interface", message)
        self.assertIn(str(self.hidden.pk), message)

    def test_the_job_may_be_named_by_its_name(self):
        self.may_run("DescribeInterface")
        proposed = self.propose({**self.operation(), "job": "Describe interface (test)"})
        self.assertEqual(proposed["dry_run_diff"][0]["job"], self.describe.class_path)

    def test_the_apply_job_and_jobs_with_sensitive_inputs_are_refused(self):
        self.may_run("ApplyChangeSet", "TakesSecrets")
        apply_job = self.jobs["ApplyChangeSet"]
        message = self.refused(
            {"action": "run_job", "job": apply_job.class_path, "data": {"change_set": "x"}}
        )
        self.assertIn("cannot be a step of a change set", message)
        secrets = self.jobs["TakesSecrets"]
        message = self.refused(
            {"action": "run_job", "job": secrets.class_path, "data": {"target": "x"}}
        )
        self.assertIn("has_sensitive_variables", message)
        self.assertEqual(self.runs_of(secrets), 0)

    def test_a_disabled_job_is_refused(self):
        self.may_run("DescribeInterface")
        self.describe.enabled = False
        self.describe.save()
        self.assertIn("is not enabled", self.refused(self.operation()))

    def test_the_apply_checks_again_a_job_disabled_since_the_proposal_does_not_run(self):
        self.may_run("ApplyChangeSet", "DescribeInterface")
        proposed = self.propose(self.operation())
        Job.objects.filter(pk=self.describe.pk).update(enabled=False)
        applied = apply_change_set(self.user, proposed["change_set"], THREAD)
        self.assertEqual(applied["status"], "failed", applied)
        self.assertEqual(applied["job_status"], "FAILURE")
        self.assertEqual(self.runs_of(self.describe), 0)
        self.assertEqual(self.description(), "ams01 uplink 0")

    def pending_run(self) -> tuple[dict, ApprovalWorkflow]:
        """An applied change set whose Job waits for a one-stage approval workflow."""
        self.may_run("ApplyChangeSet", "DescribeInterface")
        definition = ApprovalWorkflowDefinition.objects.create(
            name="Jobs need a second pair of eyes",
            model_content_type=ContentType.objects.get_for_model(ScheduledJob),
            model_constraints={"job_model__job_class_name": "DescribeInterface"},
        )
        self.approvers = Group.objects.create(name="network-approvers")
        ApprovalWorkflowStageDefinition.objects.create(
            approval_workflow_definition=definition,
            sequence=1,
            name="Network team",
            min_approvers=1,
            approver_group=self.approvers,
        )
        proposed = self.propose(self.operation())
        applied = apply_change_set(self.user, proposed["change_set"], THREAD)
        [entry] = applied["diff"]
        workflow = ApprovalWorkflow.objects.get(
            object_under_review_object_id=entry["scheduled_job"]
        )
        return applied, workflow

    def decide(self, workflow: ApprovalWorkflow, state: str) -> ChangeSet:
        approver = viewer("approver")
        approver.groups.add(self.approvers)
        ApprovalWorkflowStageResponse.objects.create(
            approval_workflow_stage=workflow.active_stage, user=approver, state=state
        )
        return ChangeSet.objects.get()

    def test_where_an_approval_workflow_applies_the_run_waits_for_it(self):
        applied, workflow = self.pending_run()
        self.assertEqual(applied["status"], "pending_approval", applied)
        self.assertEqual(self.runs_of(self.describe), 0)
        self.assertEqual(self.description(), "ams01 uplink 0")
        [entry] = applied["diff"]
        schedule = ScheduledJob.objects.get(pk=entry["scheduled_job"])
        self.assertEqual(entry["state"], "pending_approval")
        self.assertEqual((schedule.job_model, schedule.user), (self.describe, self.user))
        self.assertEqual(schedule.state, ScheduledJobStateChoices.PENDING)
        self.assertFalse(schedule.enabled)
        self.assertEqual(workflow.current_state, ApprovalWorkflowStateChoices.PENDING)
        self.assertIn(str(schedule.pk), entry["approval_url"])

    def test_the_change_set_follows_the_workflows_approval(self):
        _, workflow = self.pending_run()
        row = self.decide(workflow, ApprovalWorkflowStateChoices.APPROVED)
        self.assertEqual((row.status, row.diff[0]["state"]), ("applied", "approved"))
        schedule = ScheduledJob.objects.get(pk=row.diff[0]["scheduled_job"])
        self.assertTrue(schedule.enabled)  # Nautobot's scheduler runs it now

    def test_a_denied_run_fails_the_change_set_and_never_runs(self):
        _, workflow = self.pending_run()
        row = self.decide(workflow, ApprovalWorkflowStateChoices.DENIED)
        self.assertEqual((row.status, row.diff[0]["state"]), ("failed", "denied"))
        self.assertEqual(self.runs_of(self.describe), 0)
        self.assertEqual(self.description(), "ams01 uplink 0")
