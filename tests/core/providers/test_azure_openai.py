"""The ``azure_openai`` handler: deployment URLs, api-version and its three environment variables."""

from __future__ import annotations

import pytest

from aiops_core.errors import UserError
from aiops_core.messages import UserMessage
from aiops_core.providers import ModelRequest, get_chat_model
from tests.servers.llm import LLMServer, Reply

pytestmark = pytest.mark.anyio


async def test_environment_configures_everything(
    server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "azure-env-key")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    server.script(Reply(text="ok"))
    m = get_chat_model("azure_openai:ops-gpt4o", max_tokens=50)
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    req = server.last
    assert req.path == "/openai/deployments/ops-gpt4o/chat/completions"
    assert req.query == {"api-version": "2024-10-21"}
    assert req.headers["api-key"] == "azure-env-key"
    assert req.body["max_completion_tokens"] == 50
    assert "max_tokens" not in req.body
    assert m.name == "azure_openai:ops-gpt4o"
    await m.aclose()


@pytest.mark.parametrize(
    ("api_version", "reasoning", "key"),
    [
        ("2024-06-01", None, "max_tokens"),
        ("2024-06-01", "low", "max_completion_tokens"),  # a reasoning deployment needs it
        ("2024-09-01-preview", None, "max_completion_tokens"),
        ("2025-04-01-preview", None, "max_completion_tokens"),
    ],
)
async def test_token_limit_field_follows_the_api_version(
    server: LLMServer, api_version: str, reasoning: str | None, key: str
) -> None:
    server.script(Reply(text="ok"))
    options = {"reasoning_effort": reasoning} if reasoning else {}
    m = get_chat_model(
        "azure_openai:o4-mini" if reasoning else "azure_openai:ops",
        api_key="k",
        endpoint=server.url,
        api_version=api_version,
        max_tokens=64,
        **options,
    )
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    other = {"max_tokens", "max_completion_tokens"} - {key}
    assert server.last.body[key] == 64
    assert not other & server.last.body.keys()
    await m.aclose()


async def test_deployment_config_wins_over_model_name(server: LLMServer) -> None:
    server.script(Reply(text="ok"))
    m = get_chat_model(
        "azure_openai:gpt-4o",
        api_key="k",
        endpoint=server.url,
        api_version="2025-01-01-preview",
        deployment="prod-deployment",
    )
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert server.last.path == "/openai/deployments/prod-deployment/chat/completions"
    assert server.last.query["api-version"] == "2025-01-01-preview"
    await m.aclose()


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"),
        ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_ENDPOINT"),
        ("OPENAI_API_VERSION", "OPENAI_API_VERSION"),
    ],
)
def test_missing_setting_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, missing: str, named: str
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    monkeypatch.delenv(missing)
    with pytest.raises(UserError, match=named):
        get_chat_model("azure_openai:dep")


def test_key_not_in_repr() -> None:
    m = get_chat_model(
        "azure_openai:dep",
        api_key="azure-SECRET-key",
        endpoint="http://127.0.0.1:9",
        api_version="v",
    )
    assert "azure-SECRET-key" not in repr(m)
    assert "dep" in repr(m)


async def test_entra_id_token_provider_needs_no_key(
    server: LLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    server.script(Reply(text="ok"))
    m = get_chat_model(
        "azure_openai:dep",
        endpoint=server.url,
        api_version="2024-10-21",
        azure_ad_token_provider=lambda: "entra-token",
    )
    await m.complete(ModelRequest([UserMessage(content="hi")]))
    assert server.last.headers["authorization"] == "Bearer entra-token"
    assert "api-key" not in server.last.headers
    await m.aclose()
