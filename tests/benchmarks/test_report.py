"""Report tables: structure checks, text rendering and the merged JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks._report import check_table, format_table, merge_report


def _table(**changes: object) -> dict[str, object]:
    table: dict[str, object] = {
        "title": "T",
        "columns": ["variant", "ms"],
        "rows": [["raw", 1.5], ["aiops", None]],
        "notes": "",
    }
    table.update(changes)
    return table


def test_a_well_formed_table_has_no_problems() -> None:
    assert check_table(_table()) == []


def test_problems_name_the_key_or_row() -> None:
    assert check_table(_table(title=3)) == ["'title' must be a str"]
    assert check_table(_table(rows=[["raw"]])) == ["row 0 must be a list of 2 values"]
    assert "row 1" in check_table(_table(rows=[["a", 1], ["b", {"x": 1}]]))[0]
    assert check_table([]) == ["a table must be a dict, got list"]


def test_format_aligns_columns_and_shows_missing_values() -> None:
    lines = format_table(_table(rows=[["raw", 1234.5], ["aiops", None]], notes="n")).splitlines()
    assert lines[0] == "T"
    assert lines[-1] == "n"
    assert len({len(line) for line in lines[1:5]}) == 1  # header, rule and rows line up
    assert lines[3].endswith("1,234") and lines[4].endswith("-")


def test_merge_keeps_other_scenarios_and_replaces_its_own(tmp_path: Path) -> None:
    path = tmp_path / "results" / "latest.json"
    merge_report(path, "a", {"tables": [1]})
    merge_report(path, "b", {"tables": [2]})
    merge_report(path, "a", {"tables": [3]})
    report = json.loads(path.read_text())
    assert report["scenarios"] == {"a": {"tables": [3]}, "b": {"tables": [2]}}
    assert report["machine"]["cpus"] >= 1


def test_merge_starts_over_from_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "latest.json"
    path.write_text("{not json")
    merge_report(path, "a", {"tables": []})
    assert json.loads(path.read_text())["scenarios"] == {"a": {"tables": []}}
