"""Small Jobs that change sets run in the tests (registered with Nautobot at import)."""

from __future__ import annotations

from nautobot.apps.jobs import Job, ObjectVar, StringVar, register_jobs
from nautobot.dcim.models import Interface

__all__ = ["DescribeInterface", "TakesSecrets"]


class DescribeInterface(Job):
    """Set an interface's description."""

    interface = ObjectVar(model=Interface)
    description = StringVar(max_length=60)

    class Meta:
        name = "Describe interface (test)"
        has_sensitive_variables = False

    def run(self, interface: Interface, description: str) -> dict:  # type: ignore[override]
        interface.description = description
        interface.validated_save()
        return {"interface": str(interface.pk), "description": description}


class TakesSecrets(Job):
    """A Job left at Nautobot's default: its inputs may be sensitive."""

    target = StringVar()

    class Meta:
        name = "Takes secrets (test)"

    def run(self, target: str) -> None:  # type: ignore[override]
        raise AssertionError("a change set must never run this Job")


register_jobs(DescribeInterface, TakesSecrets)
