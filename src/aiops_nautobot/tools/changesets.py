"""Writes through change sets: a dry-run diff first, applied by a Nautobot Job after approval.

``nautobot_propose_change_set`` validates the operations as the user (the needed object
permission, the model's own validation, in a transaction that is always rolled back) and stores a
:class:`~aiops_nautobot.models.ChangeSet` with the diff; it changes nothing else.
``nautobot_apply_change_set`` always needs a person's approval (``requires_approval``, enforced
by the engine whatever middleware is configured); once approved it queues the *Apply change
set* Job as the user (a Celery worker runs it), after checking the Job is enabled and the user
may run it; the Job applies the operations again under the user's object permissions, in one
transaction. An operation may also run a named Job (:mod:`.job_runs`): checked when proposed,
started by the *Apply change set* Job after the object changes are saved, through Nautobot's Job
approval workflow where one applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .access import ToolInputError, is_sensitive_field, readable_model
from .job_runs import APPLY_JOB, PENDING_APPROVAL, RUN_JOB, plan_job_run, start_job_run
from .values import json_value

__all__ = [
    "APPLY_JOB",
    "apply_change_set",
    "apply_operations",
    "propose_change_set",
    "start_job_runs",
]

_ACTIONS = {"create": "add", "update": "change", "delete": "delete"}
MAX_OPERATIONS = 50


class _DryRun(Exception):
    """Rolls back the dry run's transaction."""


def _editable(model: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as model attribute values; foreign keys given as ids."""
    values = {}
    for name, value in data.items():
        try:
            field = model._meta.get_field(name)
        except Exception:
            raise ToolInputError(f"{model._meta.label_lower} has no field {name!r}") from None
        if not getattr(field, "concrete", False) or not field.editable or field.primary_key:
            raise ToolInputError(f"Field {name!r} of {model._meta.label_lower} cannot be set")
        if is_sensitive_field(name):
            raise ToolInputError(f"Field {name!r} cannot be set through the assistant")
        values[field.attname] = value
    return values


def _check_related(user: Any, model: Any, values: Mapping[str, Any]) -> None:
    """Foreign keys may point only at objects the user may view."""
    for field in model._meta.concrete_fields:
        if field.is_relation and field.attname in values and values[field.attname] is not None:
            target = field.related_model
            if (
                not target.objects.all()
                .restrict(user, "view")
                .filter(pk=values[field.attname])
                .exists()
            ):
                raise ToolInputError(
                    f"{field.name}: no {target._meta.label_lower} {values[field.attname]} that you may view"
                )


def _apply_one(user: Any, operation: Mapping[str, Any]) -> dict[str, Any]:
    """Apply one operation as ``user`` (inside the caller's transaction); returns its diff."""
    from django.core.exceptions import ValidationError

    if not isinstance(operation, Mapping):
        raise ToolInputError("Each operation must be an object")
    action = operation.get("action")
    if action == RUN_JOB:
        return plan_job_run(user, operation)  # started only by start_job_runs, after approval
    if action not in _ACTIONS:
        raise ToolInputError(
            f"Operation action must be one of {sorted([*_ACTIONS, RUN_JOB])}, got {action!r}"
        )
    model = readable_model(str(operation.get("model", "")))
    label = model._meta.label_lower
    data = operation.get("data") or {}
    if not isinstance(data, Mapping):
        raise ToolInputError("An operation's 'data' must be an object of field values")
    permitted = model.objects.all().restrict(user, _ACTIONS[action])
    try:
        if action == "create":
            values = _editable(model, data)
            _check_related(user, model, values)
            obj = model(**values)
            obj.validated_save()
            # Object permissions may constrain what a user can add: checked on the saved row.
            if not permitted.filter(pk=obj.pk).exists():
                raise ToolInputError(f"You may not create this {label}")
            return {
                "action": "create",
                "object": f"{label}:{obj.pk}",
                "display": str(obj),
                "data": {k: json_value(v) for k, v in data.items()},
            }
        obj = permitted.filter(pk=operation.get("id")).first()
        if obj is None:
            raise ToolInputError(f"No {label} {operation.get('id')} that you may {action}")
        if action == "delete":
            display = str(obj)
            obj.delete()
            return {
                "action": "delete",
                "object": f"{label}:{operation.get('id')}",
                "display": display,
            }
        values = _editable(model, data)
        _check_related(user, model, values)
        changes = {}
        for attname, value in values.items():
            changes[attname] = [json_value(getattr(obj, attname)), json_value(value)]
            setattr(obj, attname, value)
        obj.validated_save()
        if not permitted.filter(pk=obj.pk).exists():  # the change must stay within the permission
            raise ToolInputError(f"You may not make this change to {label} {obj.pk}")
        return {
            "action": "update",
            "object": f"{label}:{obj.pk}",
            "display": str(obj),
            "changes": changes,
        }
    except ValidationError as err:
        raise ToolInputError(f"{action} {label}: {'; '.join(err.messages)}") from None


def apply_operations(user: Any, operations: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Apply ``operations`` as ``user`` in one transaction; returns the diff of each."""
    from django.db import transaction

    if not isinstance(operations, Sequence) or not operations or len(operations) > MAX_OPERATIONS:
        raise ToolInputError(f"Give 1-{MAX_OPERATIONS} operations")
    with transaction.atomic():
        return [_apply_one(user, operation) for operation in operations]


def start_job_runs(user: Any, diff: list[dict[str, Any]]) -> bool:
    """Start the planned ``run_job`` entries of ``diff`` as ``user``, in order, updating each in
    place; whether one waits for Nautobot's approval workflow."""
    for index, entry in enumerate(diff):
        if entry.get("action") == RUN_JOB:
            diff[index] = start_job_run(user, entry)
    return any(entry.get("state") == PENDING_APPROVAL for entry in diff)


def propose_change_set(
    user: Any, operations: Sequence[Mapping[str, Any]], summary: str, thread_id: str, turn_id: str
) -> dict[str, Any]:
    """Dry-run ``operations`` as ``user`` (rolled back) and store them as a proposed change set."""
    from django.db import transaction

    from ..models import ChangeSet

    diff: list[dict[str, Any]] = []
    try:
        with transaction.atomic():
            diff = apply_operations(user, operations)
            raise _DryRun
    except _DryRun:
        pass
    row = ChangeSet.objects.create(
        owner=user,
        thread_id=thread_id,
        turn_id=turn_id,
        summary=summary[:200],
        operations=json_value(list(operations)),
        diff=diff,
    )
    return {
        "change_set": str(row.pk),
        "change_set_url": row.get_absolute_url(),
        "status": row.status,
        "dry_run_diff": diff,
        "next": "Call nautobot_apply_change_set with this change_set id; the user must approve it.",
    }


def apply_change_set(user: Any, change_set: str, thread_id: str) -> dict[str, Any]:
    """Run the *Apply change set* Job as ``user`` for their proposed change set (after approval)."""
    from nautobot.extras.models import Job, JobResult

    from ..models import ChangeSet, ChangeSetStatus

    row = ChangeSet.objects.filter(
        pk=change_set, owner=user, thread_id=thread_id, status=ChangeSetStatus.PROPOSED
    ).first()
    if row is None:
        raise ToolInputError(f"No proposed change set {change_set} of this conversation")
    module, name = APPLY_JOB
    job = Job.objects.filter(module_name=module, job_class_name=name).first()
    if job is None or not job.enabled:
        raise ToolInputError(
            "The 'Apply change set' job is not enabled: an administrator must enable it "
            "(Jobs > AI Ops) before the assistant can change anything"
        )
    if not Job.objects.restrict(user, "run").filter(pk=job.pk).exists():
        raise ToolInputError("You may not run the 'Apply change set' job")
    # Queued for a Celery worker, like a run from the Jobs page (a synchronous run needs the
    # process's main thread). The answer says whether it has finished yet.
    result = JobResult.enqueue_job(job, user, job_kwargs={"change_set": str(row.pk)})
    result.refresh_from_db()
    row.refresh_from_db()
    return {
        "change_set": str(row.pk),
        "change_set_url": row.get_absolute_url(),
        "change_log_url": row.change_log_path,  # the change-log entries of its writes
        "status": row.status,
        "job_result": str(result.pk),
        "job_status": result.status,
        "job_result_url": result.get_absolute_url(),
        "diff": row.diff,
    }
