"""``aiops usage``: what 'aiops run' recorded, as a table and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Aiops


def test_runs_are_recorded_and_summarised(aiops: Aiops, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    config = tmp_path / "aiops.toml"
    config.write_text(f'usage = "{db}"\n')
    aiops("run", "--config", str(config), "--tools", "inventory", "list devices", "--user", "alice")
    aiops("run", "--config", str(config), "hello again")

    table = aiops("usage", "--config", str(config)).stdout.splitlines()
    assert table[0].split() == ["MODEL", "CALLS", "ERRORS", "INPUT", "CACHED", "OUTPUT", "COST"]
    assert table[1].split()[:3] == ["test:test", "3", "0"]
    assert table[1].split()[-1] == "$0.0000"

    by_day = json.loads(aiops("usage", "--db", db, "--by", "day", "--json").stdout)
    assert len(by_day) == 1 and by_day[0]["calls"] == 3
    tools = json.loads(aiops("usage", "--db", db, "--tools", "--json").stdout)
    assert {t["tool"] for t in tools} >= {"list_devices"}
    assert all(t["failures"] == 0 for t in tools)


def test_without_a_database_says_how_to_get_one(aiops: Aiops, tmp_path: Path) -> None:
    result = aiops("usage", "--db", f"sqlite:///{tmp_path / 'none.db'}", check=False)
    assert result.returncode == 2
    assert "set 'usage' in the config file" in result.stderr


def test_days_must_be_positive(aiops: Aiops) -> None:
    result = aiops("usage", "--days", "0", check=False)
    assert result.returncode == 2 and "--days must be 1 or more" in result.stderr


@pytest.mark.parametrize("by", ["user", "tenant"])
def test_group_by_column(aiops: Aiops, tmp_path: Path, by: str) -> None:
    db = f"sqlite:///{tmp_path / 'usage.db'}"
    aiops("run", "hi", env={"AIOPS_USAGE": db})
    rows = json.loads(aiops("usage", "--by", by, "--json", env={"AIOPS_USAGE": db}).stdout)
    assert rows[0][by] == "-" and rows[0]["calls"] == 1
