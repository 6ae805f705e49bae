"""Tables: checking their shape, printing them, and merging them into the JSON report."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["check_table", "format_table", "machine", "merge_report"]

_KEYS = {"title": str, "columns": list, "rows": list, "notes": str}


def check_table(table: Any) -> list[str]:
    """Problems with a table's structure (empty when it follows the module contract)."""
    if not isinstance(table, dict):
        return [f"a table must be a dict, got {type(table).__name__}"]
    problems = [
        f"{key!r} must be a {kind.__name__}"
        for key, kind in _KEYS.items()
        if not isinstance(table.get(key), kind)
    ]
    if problems:
        return problems
    width = len(table["columns"])
    for i, row in enumerate(table["rows"]):
        if not isinstance(row, list) or len(row) != width:
            problems.append(f"row {i} must be a list of {width} values")
        elif not all(v is None or isinstance(v, str | int | float | bool) for v in row):
            problems.append(f"row {i} holds a value that is not str, int, float, bool or null")
    return problems


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        size = abs(value)
        if size >= 100:
            return f"{value:,.0f}"
        if size >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def format_table(table: dict[str, Any]) -> str:
    """A table as aligned text (title, header, rows, notes)."""
    header = [str(c) for c in table["columns"]]
    body = [[_cell(v) for v in row] for row in table["rows"]]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        out = [cells[0].ljust(widths[0])]
        out += [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join(out).rstrip()

    lines = [table["title"], line(header), line(["-" * w for w in widths])]
    lines += [line(r) for r in body]
    if table["notes"]:
        lines.append(table["notes"])
    return "\n".join(lines)


def format_markdown(table: dict[str, Any]) -> str:
    """A table in Markdown (for the README)."""
    lines = [f"**{table['title']}**", ""]
    lines.append("| " + " | ".join(str(c) for c in table["columns"]) + " |")
    lines.append("|" + "|".join("---" for _ in table["columns"]) + "|")
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table["rows"]]
    if table["notes"]:
        lines += ["", table["notes"]]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def merge_report(path: Path, name: str, entry: dict[str, Any]) -> None:
    """Write ``entry`` as scenario ``name`` into the JSON report, keeping the other scenarios."""
    report: dict[str, Any] = {}
    if path.exists():
        try:
            report = json.loads(path.read_text())
        except ValueError:
            report = {}
    if not isinstance(report.get("scenarios"), dict):
        report = {"scenarios": {}}
    report["machine"] = machine()
    report["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["scenarios"][name] = entry
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
