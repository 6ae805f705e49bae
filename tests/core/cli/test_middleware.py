"""``aiops middleware show`` and ``aiops middleware types``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aiops_core.cli import main

CONFIG = """
model = "test"
[[middleware]]
type = "retry"
priority = 30
config = { max_attempts = 5 }
[[middleware]]
type = "cache"
priority = 20
critical = true
config = { backend = "redis", url = "redis://:hunter2@cache.example:6379/3" }
[[middleware]]
type = "logging"
priority = 20
[[middleware]]
type = "pii_redaction"
active = false
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "aiops.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_show_prints_the_resolved_order_with_secrets_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15: a readable table per middleware, with values, defaults and descriptions."""
    assert main(["middleware", "show", "--config", write(tmp_path, CONFIG)]) == 0
    out = capsys.readouterr().out
    headings = [line for line in out.splitlines() if re.match(r"\d\. ", line)]
    assert headings == [
        "1. cache  priority 20, critical",
        "2. logging  priority 20, not critical",
        "3. retry  priority 30, not critical",
    ]
    rows = {
        line.split()[0]: line.split(None, 4) for line in out.splitlines() if line.startswith("   ")
    }
    assert rows["max_attempts"][:4] == ["max_attempts", "5", "*", "3"]
    assert rows["max_attempts"][4] == "calls in total, the first included"
    assert rows["initial_delay"][:3] == ["initial_delay", "0.5", "0.5"]  # unchanged: no mark
    assert "hunter2" not in out and '"redis://***@cache.example:6379/3" *' in out
    assert "inactive: pii_redaction" in out


def test_show_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["middleware", "show", "--config", write(tmp_path, CONFIG), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(r["order"], r["type"], r["critical"]) for r in data["chain"]] == [
        (1, "cache", True),
        (2, "logging", False),
        (3, "retry", False),
    ]
    assert data["inactive"] == ["pii_redaction"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('type = "retry"\npriority = 0', "priority must be between 1 and 100"),
        ('type = "retry"\nconfig = { max_attempts = "many" }', "invalid config max_attempts"),
        ('type = "retyr"', "Did you mean 'retry'"),
    ],
)
def test_show_reports_config_mistakes_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, message: str
) -> None:
    path = write(tmp_path, f"[[middleware]]\n{table}\n")
    assert main(["middleware", "show", "--config", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1


def test_types_lists_every_type_with_its_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["middleware", "types"]) == 0
    out = capsys.readouterr().out
    for name in ("logging", "cache", "retry", "rate_limit", "tool_approval"):
        assert f"\n{name}  (" in f"\n{out}"
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("   ")}
    assert rows["max_attempts"][:3] == ["max_attempts", "integer", "3"]
    assert rows["models"][:3] == ["models", "list[string]", "[]"]
    assert "   KEY" in out and "DESCRIPTION" in out


def test_types_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["middleware", "types", "retry"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["max_attempts"]["default"] == 3
    assert main(["middleware", "types", "--json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert "summarization" in everything and everything["cache"]["type"] == "object"
