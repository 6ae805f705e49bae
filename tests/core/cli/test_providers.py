"""``aiops providers``."""

from __future__ import annotations

import argparse
import json

import pytest

from aiops_core.cli import providers as command
from aiops_core.errors import UnknownNameError


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="aiops")
    command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["providers", *argv])


def test_table_lists_every_handler(capsys: pytest.CaptureFixture[str]) -> None:
    args = parse()
    assert args.func(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["PROVIDER", "SDK", "INSTALLED"]
    rows = {line.split()[0]: line for line in lines[1:]}
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
    args = parse("openai", "--json")
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ["openai"]
    assert data["openai"]["installed"] is True
    assert data["openai"]["config_schema"]["properties"]["max_retries"]["default"] == 0


def test_unknown_name() -> None:
    args = parse("opnai")
    with pytest.raises(UnknownNameError, match="Did you mean 'openai'"):
        args.func(args)


def test_one_provider_lists_its_keys_with_types_and_descriptions(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parse("anthropic")
    assert args.func(args) == 0
    lines = capsys.readouterr().out.splitlines()
    keys = {line.split()[0]: line for line in lines[3:] if line.strip()}
    assert "object | integer | adaptive | disabled" in keys["thinking"]
    assert "budget_tokens" in keys["thinking"]
    assert "low | medium | high | xhigh | max" in keys["effort"]
    assert "(default 4096)" in keys["max_tokens"]
    args = parse("openai")
    args.func(args)
    keys = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[3:] if line}
    assert 'chat | responses (default "chat")' in keys["api"]
    assert "reasoning_effort" in keys and "reasoning_summary" in keys
