"""The suite's results table: tests add rows, the terminal summary prints them."""

from __future__ import annotations

from dataclasses import dataclass, field

from .load import Load

__all__ = ["RESULTS", "Results"]


@dataclass
class Results:
    """Rows collected while the suite runs, printed as Markdown tables at its end."""

    load: list[str] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    inputs: dict[str, tuple[int, str]] = field(default_factory=dict)
    """kind -> (inputs tried, outcome); repeated adds of one kind sum up."""

    def add_load(self, load: Load, stored: int) -> None:
        errors = ", ".join(f"{k} {v}" for k, v in sorted(load.errors.items())) or "0"
        self.load.append(
            f"| {load.name} | {load.conversations} "
            f"| {load.sent} | {load.acked} | {stored} | {load.percentile(50) * 1000:.0f} "
            f"| {load.percentile(95) * 1000:.0f} | {errors} | {load.seconds:.1f} |"
        )

    def add_fault(self, fault: str, load: Load, seen: str) -> None:
        recovery = load.recovery()
        recovered = f"{recovery:.2f}" if recovery is not None else "-"
        self.faults.append(
            f"| {fault} | {load.acked}/{load.sent} | {load.failed} "
            f"| {load.degraded} | {seen} | 0 | {recovered} |"
        )

    def add_inputs(self, kind: str, tried: int, outcome: str) -> None:
        before = self.inputs.get(kind, (0, outcome))[0]
        self.inputs[kind] = (before + tried, outcome)

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.load:
            out += [
                "| Load | Conversations | Turns sent | Acknowledged | Stored | p50 ms | p95 ms "
                "| Errors | Seconds |",
                "|---|---|---|---|---|---|---|---|---|",
                *self.load,
                "",
            ]
        if self.faults:
            out += [
                "| Fault (one at a time, under load) | Acknowledged | Failed turns "
                "| Answered with a tool error | What the user saw | Acknowledged turns lost "
                "| Recovery s |",
                "|---|---|---|---|---|---|---|",
                *self.faults,
                "",
            ]
        if self.inputs:
            rows = [f"| {kind} | {n} | {outcome} |" for kind, (n, outcome) in self.inputs.items()]
            out += ["| Bad input / abuse | Tried | Outcome |", "|---|---|---|", *rows]
        return out


RESULTS = Results()
"""The one table of this pytest run."""
