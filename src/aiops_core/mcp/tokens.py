"""Where OAuth tokens and client registrations of MCP servers are kept.

A :class:`TokenStore` maps a key (the server's name) to one JSON-able record. The record holds
secrets (access and refresh tokens, a registered client's secret), so a store keeps it out of
logs and reprs; the Nautobot app plugs in a store backed by Secrets or an encrypted table.

- :class:`MemoryTokenStore`: the default of a pool; tokens live as long as the process.
- :class:`FileTokenStore`: the CLI's store, one JSON file readable by its owner only (no keyring).

:class:`ServerTokenStorage` adapts a store to the SDK's ``TokenStorage`` for one server. It binds
the record to the server's URL, so tokens issued for one server are never sent to another that
later takes its name, and it keeps an absolute expiry time, so a token loaded in a later process
is refreshed when it has expired instead of being sent stale.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import anyio
import anyio.to_thread

from ..errors import UserError

if TYPE_CHECKING:
    from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

__all__ = [
    "FileTokenStore",
    "MemoryTokenStore",
    "ServerTokenStorage",
    "TokenStore",
    "default_token_path",
]


@runtime_checkable
class TokenStore(Protocol):
    """Keeps one JSON-able record per key; implementations must keep records secret."""

    async def get(self, key: str) -> dict[str, Any] | None:
        """The record stored under ``key``, or ``None``."""
        ...

    async def set(self, key: str, record: dict[str, Any]) -> None:
        """Store ``record`` under ``key`` (replacing any previous one)."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key`` (no error when it is unknown)."""
        ...


class MemoryTokenStore:
    """Records in a dict: they last as long as the process."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, Any]] = {}

    def __repr__(self) -> str:
        return f"MemoryTokenStore(keys={sorted(self._records)!r})"

    async def get(self, key: str) -> dict[str, Any] | None:
        record = self._records.get(key)
        return json.loads(json.dumps(record)) if record is not None else None

    async def set(self, key: str, record: dict[str, Any]) -> None:
        self._records[key] = json.loads(json.dumps(record))

    async def delete(self, key: str) -> None:
        self._records.pop(key, None)


def default_token_path() -> Path:
    """``$AIOPS_TOKEN_FILE``, else ``$XDG_CONFIG_HOME/aiops/mcp-tokens.json`` (``~/.config``)."""
    explicit = os.environ.get("AIOPS_TOKEN_FILE")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "aiops" / "mcp-tokens.json"


class FileTokenStore:
    """Records in one JSON file that only its owner can read (mode 0600, directory 0700).

    Writes replace the file atomically, so a crash never leaves half a file. File access runs in
    a worker thread, never on the event loop.

    Args:
        path: the file (default :func:`default_token_path`).
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_token_path()
        self._lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"FileTokenStore(path={str(self.path)!r})"

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            raise UserError(
                f"Token file {str(self.path)!r} is not valid JSON; delete it and sign in again"
            ) from None
        if not isinstance(data, dict):
            raise UserError(f"Token file {str(self.path)!r} does not hold a JSON object")
        return data

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".mcp-tokens-", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    async def get(self, key: str) -> dict[str, Any] | None:
        async with self._lock:
            data = await anyio.to_thread.run_sync(self._read)
        return data.get(key)

    async def set(self, key: str, record: dict[str, Any]) -> None:
        async with self._lock:

            def update() -> None:
                data = self._read()
                data[key] = record
                self._write(data)

            await anyio.to_thread.run_sync(update)

    async def delete(self, key: str) -> None:
        async with self._lock:

            def remove() -> None:
                data = self._read()
                if data.pop(key, None) is not None:
                    self._write(data)

            await anyio.to_thread.run_sync(remove)


class ServerTokenStorage:
    """The SDK's ``TokenStorage`` for one server, on top of a :class:`TokenStore`.

    Args:
        store: where records live.
        key: the record's key (the server's name).
        resource: the server's MCP endpoint URL; a record saved for another URL is ignored.
    """

    def __init__(self, store: TokenStore, key: str, resource: str) -> None:
        self._store = store
        self._key = key
        self._resource = resource

    def __repr__(self) -> str:
        return f"ServerTokenStorage(key={self._key!r}, resource={self._resource!r})"

    async def _record(self) -> dict[str, Any]:
        record = await self._store.get(self._key)
        if not record or record.get("resource") != self._resource:
            return {"resource": self._resource}
        return record

    async def get_tokens(self) -> OAuthToken | None:
        from mcp.shared.auth import OAuthToken

        data = (await self._record()).get("tokens")
        if not data:
            return None
        token = OAuthToken.model_validate({k: v for k, v in data.items() if k != "expires_at"})
        expires_at = data.get("expires_at")
        if expires_at is not None:
            # The SDK counts expires_in from when it loads the token: give it what is left.
            token.expires_in = max(0, int(expires_at - time.time()))
        return token

    async def set_tokens(self, tokens: OAuthToken) -> None:
        record = await self._record()
        data = tokens.model_dump(mode="json", exclude_none=True)
        if tokens.expires_in is not None:
            data["expires_at"] = time.time() + tokens.expires_in
        record["tokens"] = data
        await self._store.set(self._key, record)

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        from mcp.shared.auth import OAuthClientInformationFull

        data = (await self._record()).get("client")
        return OAuthClientInformationFull.model_validate(data) if data else None

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        record = await self._record()
        record["client"] = client_info.model_dump(mode="json", exclude_none=True)
        await self._store.set(self._key, record)

    async def has_tokens(self) -> bool:
        """Whether an access token is stored for this server (expired or not)."""
        return bool((await self._record()).get("tokens"))

    async def clear(self) -> None:
        """Forget this server's tokens and client registration."""
        await self._store.delete(self._key)
