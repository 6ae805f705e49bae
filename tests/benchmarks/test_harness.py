"""Smoke test of the benchmark runner: a quick run of a cheap scenario writes a well-formed report.

It checks structure only (never numbers): performance claims live in ``benchmarks/``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, output: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args, "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )


def _check_tables(tables: object) -> None:
    assert isinstance(tables, list) and tables
    for table in tables:
        assert set(table) == {"title", "columns", "rows", "notes"}
        assert isinstance(table["title"], str) and table["title"]
        assert isinstance(table["notes"], str)
        assert table["rows"], f"table {table['title']!r} has no rows"
        for row in table["rows"]:
            assert len(row) == len(table["columns"])


@pytest.mark.slow
def test_quick_run_writes_a_merged_report(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    output.write_text(json.dumps({"scenarios": {"other": {"tables": []}}}))

    proc = _run("--quick", "--only", "startup", output=output)

    assert proc.returncode == 0, proc.stderr
    assert "Import time" in proc.stdout
    report = json.loads(output.read_text())
    assert set(report["scenarios"]) == {"other", "startup"}, "earlier scenarios must be kept"
    entry = report["scenarios"]["startup"]
    assert entry["quick"] is True
    _check_tables(entry["tables"])
    assert {"cpus", "cpu_model", "python"} <= set(report["machine"])


def test_unknown_scenario_is_refused(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"

    proc = _run("--only", "no_such_scenario", output=output)

    assert proc.returncode == 2
    assert "no_such_scenario" in proc.stderr and "startup" in proc.stderr
    assert not output.exists()


def test_list_names_every_scenario_module(tmp_path: Path) -> None:
    proc = _run("--list", output=tmp_path / "latest.json")

    assert proc.returncode == 0
    names = set(proc.stdout.split())
    modules = {p.stem.removeprefix("bench_") for p in (ROOT / "benchmarks").glob("bench_*.py")}
    assert names == modules and {"overhead", "scale", "startup"} <= names


def test_show_prints_stored_tables_without_running(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    table = {"title": "Stored table", "columns": ["a", "b"], "rows": [["x", 1.5]], "notes": "n"}
    entry = {"command": "c", "run_at": "t", "seconds": 1.0, "quick": False, "tables": [table]}
    output.write_text(json.dumps({"scenarios": {"startup": entry}, "machine": {"cpus": 2}}))

    proc = _run("--show", "--markdown", "--only", "startup", output=output)

    assert proc.returncode == 0, proc.stderr
    assert "**Stored table**" in proc.stdout and "| x | 1.50 |" in proc.stdout
    assert "cpus=2" in proc.stdout
