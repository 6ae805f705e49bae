"""Token stores: memory and file (owner-only, atomic), and the per-server SDK storage adapter."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

from aiops_core.errors import UserError
from aiops_core.mcp import FileTokenStore, MemoryTokenStore, ServerTokenStorage, TokenStore
from aiops_core.mcp.tokens import default_token_path

pytestmark = pytest.mark.anyio

URL = "https://mcp.example.net/mcp"


@pytest.fixture(params=["memory", "file"])
def store(request, tmp_path: Path) -> TokenStore:
    return MemoryTokenStore() if request.param == "memory" else FileTokenStore(tmp_path / "t.json")


async def test_contract_get_set_delete(store: TokenStore):
    assert isinstance(store, TokenStore)
    assert await store.get("a") is None
    await store.set("a", {"x": 1})
    await store.set("b", {"y": [2]})
    record = await store.get("a")
    assert record == {"x": 1}
    record["x"] = 99  # a copy: changing it does not change the store
    assert await store.get("a") == {"x": 1}
    await store.delete("a")
    await store.delete("never")
    assert (await store.get("a"), await store.get("b")) == (None, {"y": [2]})


async def test_the_file_is_readable_by_its_owner_only(tmp_path: Path):
    path = tmp_path / "nested" / "tokens.json"
    store = FileTokenStore(path)
    await store.set("srv", {"tokens": {"access_token": "s3cret"}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"srv": {"tokens": {"access_token": "s3cret"}}}
    assert "s3cret" not in repr(store)
    assert [p.name for p in path.parent.iterdir()] == ["tokens.json"]  # no temp files left


async def test_a_broken_file_says_what_to_do(tmp_path: Path):
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="delete it and sign in again"):
        await FileTokenStore(path).get("srv")


def test_default_path_follows_the_environment(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("AIOPS_TOKEN_FILE", str(tmp_path / "x.json"))
    assert default_token_path() == tmp_path / "x.json"
    monkeypatch.delenv("AIOPS_TOKEN_FILE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert default_token_path() == tmp_path / "aiops" / "mcp-tokens.json"


async def test_storage_keeps_tokens_and_client_per_server_and_url(store: TokenStore):
    storage = ServerTokenStorage(store, "srv", URL)
    assert await storage.get_tokens() is None and not await storage.has_tokens()
    await storage.set_client_info(OAuthClientInformationFull(client_id="c1", redirect_uris=None))
    await storage.set_tokens(OAuthToken(access_token="at", refresh_token="rt", expires_in=3600))
    assert (await storage.get_client_info()).client_id == "c1"
    tokens = await storage.get_tokens()
    assert (tokens.access_token, tokens.refresh_token) == ("at", "rt")
    assert 3590 <= tokens.expires_in <= 3600

    # The same name for another server URL sees nothing: tokens never travel to a new URL.
    moved = ServerTokenStorage(store, "srv", "https://elsewhere.example/mcp")
    assert await moved.get_tokens() is None and await moved.get_client_info() is None
    await ServerTokenStorage(store, "srv", URL).clear()
    assert await storage.get_tokens() is None


async def test_a_loaded_token_has_only_its_remaining_lifetime(store: TokenStore):
    await store.set(
        "srv",
        {
            "resource": URL,
            "tokens": {"access_token": "at", "expires_in": 3600, "expires_at": time.time() - 5},
        },
    )
    tokens = await ServerTokenStorage(store, "srv", URL).get_tokens()
    assert tokens.expires_in == 0


async def test_reprs_show_keys_never_tokens():
    store = MemoryTokenStore()
    storage = ServerTokenStorage(store, "srv", URL)
    await storage.set_tokens(OAuthToken(access_token="s3cret-at", refresh_token="s3cret-rt"))
    assert "srv" in repr(store)
    assert "s3cret" not in repr(store) + repr(storage)
