"""Registry behaviour with the SDK handlers: listing, unknown names, entry points, custom handlers."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aiops_core.errors import UnknownNameError, UserError
from aiops_core.providers import (
    ProviderHandler,
    get_chat_model,
    get_provider,
    list_providers,
    provider_names,
    provider_registry,
    register_provider,
)
from tests.docs.examples import example
from tests.servers.llm import LLMServer, Reply

ROOT = Path(__file__).resolve().parents[3]
BUILTIN = {"anthropic", "azure_openai", "function", "huggingface", "ollama", "openai", "test"}


@pytest.fixture
def clean_registry() -> Iterator[None]:
    """Registrations (and entry points installed) during the test are undone after it."""
    with provider_registry.override(reread_entry_points=True):
        yield


def test_list_providers_shows_every_builtin_with_schema() -> None:
    rows = {row.name: row for row in list_providers()}
    assert set(rows) >= BUILTIN
    for name in BUILTIN - {"test", "function"}:
        row = rows[name]
        assert row.installed is True
        assert "timeout" in row.config_schema["properties"]
    assert rows["azure_openai"].sdk == "openai"
    assert "api_version" in rows["azure_openai"].config_schema["properties"]
    assert rows["huggingface"].sdk == "huggingface_hub"


def test_unknown_provider_suggests_the_closest() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_chat_model("antropic:claude")
    message = str(info.value)
    assert "Did you mean 'anthropic'?" in message
    for name in BUILTIN:
        assert name in message


def test_missing_sdk_names_the_extra(clean_registry: None) -> None:
    class Missing(ProviderHandler):
        name = "missing"
        sdk = "aiops_no_such_sdk_package"
        extra = "nosuch"

    register_provider("missing", Missing)
    with pytest.raises(UserError, match=r"pip install 'aiops\[nosuch\]'"):
        get_chat_model("missing:model")


def test_entry_point_registration(install_distribution: Any, clean_registry: None) -> None:
    install_distribution(
        "aiops_ep_demo",
        """
        from aiops_core.providers import ProviderHandler, TestModel

        class DemoHandler(ProviderHandler):
            name = "demo"

            def create(self, model, config, **options):
                return TestModel(model, answer="from an entry point")
        """,
        {"aiops_core.providers": {"demo": "aiops_ep_demo:DemoHandler"}},
    )
    assert "demo" in {row.name for row in list_providers()}
    model = get_chat_model("demo:label")
    assert model.name == "test:label"


def test_override_is_scoped() -> None:
    class Scoped(ProviderHandler):
        name = "scoped"

    with provider_registry.override({"scoped": Scoped}):
        assert get_provider("scoped") is Scoped
        register_provider("inside", Scoped)
        assert {"inside", "scoped"} <= set(provider_names())
    assert not {"inside", "scoped"} & set(provider_names())
    with pytest.raises(UnknownNameError):
        get_provider("scoped")


def test_docs_custom_handler_runs_against_the_local_server(clean_registry: None) -> None:
    block = example("custom-handler")
    code = block.code
    assert len(code.strip().splitlines()) < 30  # a custom handler is a few lines
    with LLMServer() as server:
        server.script(Reply(text="VLANs 10, 20 and 30."))
        code = code.replace("http://127.0.0.1:8000", server.url)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, block.where, "exec"), {"__name__": "docs_example"})
        assert out.getvalue().strip() == "VLANs 10, 20 and 30."
        assert server.last.path == "/v1/chat/completions"
        assert server.last.body["model"] == "Qwen/Qwen2.5-7B-Instruct"
        assert server.last.headers["authorization"] == "Bearer not-needed"


def test_listing_and_resolving_import_no_sdk() -> None:
    """``aiops providers`` and building a model stay cheap: SDKs load on the first call only."""
    code = (
        "import sys\n"
        "from aiops_core.providers import get_chat_model, list_providers\n"
        "list_providers()\n"
        "get_chat_model('openai:gpt-4o-mini', api_key='k')\n"
        "get_chat_model('ollama:llama3.2')\n"
        "print(sorted(m for m in ('openai', 'anthropic', 'ollama', 'huggingface_hub') "
        "if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
