"""``aiops providers``."""

from __future__ import annotations

import json

import pytest

from aiops_core.cli import main


def test_table_lists_every_handler(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["PROVIDER", "SDK", "INSTALLED"]
    rows: dict[str, str] = {}
    name = ""
    for line in lines[1:]:  # the last column wraps onto indented lines
        if line.startswith(" "):
            rows[name] += " " + line.strip()
        else:
            name = line.split()[0]
            rows[name] = line
    assert {
        "anthropic",
        "azure_openai",
        "function",
        "huggingface",
        "ollama",
        "openai",
        "test",
    } <= set(rows)
    assert "huggingface_hub  yes" in rows["huggingface"]
    assert "api_version" in rows["azure_openai"]
    assert "temperature" in rows["openai"]


def test_json_prints_schemas(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "openai", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["openai"]
    assert data["openai"]["installed"] is True
    assert data["openai"]["config_schema"]["properties"]["max_retries"]["default"] == 0


def test_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "opnai"]) == 2
    assert "Did you mean 'openai'" in capsys.readouterr().err


def test_one_provider_shows_keys_defaults_and_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 15: ``providers NAME`` as a readable table with defaults, descriptions and variables."""
    assert main(["providers", "azure_openai"]) == 0
    out = capsys.readouterr().out
    assert "provider azure_openai  (model: azure_openai:<model>)" in out
    assert "SDK       openai (installed)" in out
    for variable in ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION"):
        assert f"\n{variable}" in out
    rows = {line.split()[0]: line.split(None, 3) for line in out.splitlines() if line}
    assert rows["timeout"][:3] == ["timeout", "number", "60.0"]
    assert rows["max_retries"][3].startswith("SDK-level retries")


def test_reasoning_settings_are_listed_with_their_types(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from aiops_core.cli._fields import config_rows
    from aiops_core.providers.anthropic import AnthropicConfig
    from aiops_core.providers.ollama import OllamaConfig
    from aiops_core.providers.openai import OpenAIConfig

    rows = {row[0]: row for row in config_rows(AnthropicConfig)}
    assert rows["thinking"][1] == 'table | integer | "adaptive" | "disabled"'
    assert rows["effort"][1] == '"low" | "medium" | "high" | "xhigh" | "max"'
    assert rows["interleaved_thinking"][1] == "boolean?"
    rows = {row[0]: row for row in config_rows(OpenAIConfig)}
    assert (rows["api"][1], rows["api"][2]) == ('"chat" | "responses"', '"chat"')
    assert rows["store"][2] == "false"
    assert rows["reasoning_summary"][1] == '"auto" | "concise" | "detailed"'
    assert {row[0]: row[1] for row in config_rows(OllamaConfig)}["think"] == (
        'boolean | "low" | "medium" | "high"'
    )
    assert main(["providers", "anthropic"]) == 0
    out = capsys.readouterr().out
    assert all(key in out for key in ("thinking", "effort", "interleaved_thinking"))
