"""``cli/_errors.py``: engine errors in the command line's words, and their exit codes."""

from __future__ import annotations

import pytest

from aiops_core import errors
from aiops_core.cli._errors import ErrorContext, ExitCode, describe, guess_provider


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("gpt-4o", "openai"),
        ("o3-mini", "openai"),
        ("claude-sonnet-4-5", "anthropic"),
        ("llama3.2", "ollama"),
        ("meta-llama/Llama-3.1-8B-Instruct", "huggingface"),
        ("something", None),
    ],
)
def test_guess_provider(model: str, provider: str | None) -> None:
    assert guess_provider(model) == provider


def test_exit_codes_follow_the_kind_of_error() -> None:
    assert describe(errors.UserError("x"))[1] is ExitCode.USAGE
    assert describe(errors.ThreadAccessError("not yours"))[1] is ExitCode.USAGE
    assert describe(errors.ServerError("boom", provider="openai"))[1] is ExitCode.FAILURE
    assert describe(RuntimeError("?"))[1] is ExitCode.FAILURE
    text, _ = describe(RuntimeError("?"))
    assert text == "unexpected RuntimeError: ? (run with --debug for the traceback)"


def test_python_words_are_replaced() -> None:
    text, _ = describe(
        errors.UserError("No API key for provider 'openai': pass api_key=... or set OPENAI_API_KEY")
    )
    assert text == (
        "No API key for provider 'openai': set OPENAI_API_KEY in the environment "
        "(or api_key under [model_options] in the config file)"
    )
    text, _ = describe(errors.UserError("Name the model: get_chat_model('ollama:<model>')"))
    assert text == "Name the model: --model ollama:<model>"


def test_approval_hints_depend_on_where_the_user_is() -> None:
    err = errors.ApprovalStateError(
        "Thread 't1' has tool calls awaiting approval: call agent.resume(...) with a decision"
    )
    shell, code = describe(err, ErrorContext(thread="t1"))
    assert code is ExitCode.USAGE
    assert "aiops threads approve t1 CALL_ID" in shell and "agent.resume" not in shell
    chat, _ = describe(err, ErrorContext(thread="t1", in_chat=True))
    assert "/approve or /reject" in chat


def test_mcp_timeouts_name_the_server_target_and_setting() -> None:
    ctx = ErrorContext(mcp_servers={"inventory": ("http://127.0.0.1:9/mcp", 30.0)})
    text, code = describe(errors.MCPTimeoutError("tools/list timed out", server="inventory"), ctx)
    assert code is ExitCode.FAILURE
    assert "(http://127.0.0.1:9/mcp): no answer within 30 s" in text
    assert "[[mcp_servers]]" in text
