"""``open_store(url)``: one way to configure a store everywhere.

The command line, scripts and the Nautobot app all name their store with a URL::

    memory://                                   MemoryStore (this process only)
    sqlite:///relative/path.db                  SQLStore on a SQLite file (the CLI default)
    sqlite:////absolute/path.db
    postgresql://user:password@host:5432/db     SQLStore on PostgreSQL (psycopg 3)
    redis://[:password@]host:6379/2             RedisStore (also rediss://, unix://)
    redis+sentinel://host:26379,host2:26379/mymaster/2
    redis+cluster://host:7000,host2:7001

Every scheme accepts ``?ttl=<seconds>`` (forget idle threads); SQLite and PostgreSQL also
``?durable=false`` (commit without waiting for the disk), PostgreSQL ``?schema=name``, Redis
``?prefix=name`` and client options such as ``?max_connections=50&socket_timeout=5``. Passwords
never appear in reprs, logs or errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..errors import UnknownNameError, UserError
from ..masking import mask_url
from .base import CheckpointStore
from .memory import MemoryStore
from .redis_url import SCHEMES

__all__ = ["default_store_url", "open_store"]

_SQL = ("sqlite", "postgresql", "postgres")
_REDIS = SCHEMES
_KNOWN = ("memory", *_SQL, *_REDIS)


def default_store_url() -> str:
    """The command line's default store: ``$AIOPS_STORE`` when set, else a SQLite file in the
    user's data directory (``$XDG_DATA_HOME/aiops/threads.db`` or ``~/.local/share/aiops/threads.db``).
    """
    if os.environ.get("AIOPS_STORE"):
        return os.environ["AIOPS_STORE"]
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'aiops' / 'threads.db'}"


def _pop_options(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Remove our own query parameters (``ttl`` ...) from a URL and return them."""
    # Split by hand: urlsplit/urlunsplit would turn sqlite:////abs into sqlite://abs.
    head, _, text = url.partition("?")
    query = parse_qsl(text, keep_blank_values=True)
    ours = {k: v for k, v in query if k in names}
    rest = [(k, v) for k, v in query if k not in names]
    return (f"{head}?{urlencode(rest)}" if rest else head), ours


def _ttl(value: str | None, url: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise UserError(f"Store URL {mask_url(url)}: ttl must be a number of seconds") from None


def _flag(value: str, name: str, url: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise UserError(f"Store URL {mask_url(url)}: {name} must be true or false, not {value!r}")


def open_store(url: str, **options: Any) -> CheckpointStore:
    """Turn a store URL into a store (see the module docstring for the forms).

    Keyword ``options`` go to the store's constructor (``ttl=``, ``schema=``, ``pool_size=`` ...)
    and win over the URL's query parameters.

    Raises:
        UnknownNameError: the scheme is not a known store.
        UserError: the URL is malformed.
    """
    if not isinstance(url, str) or "://" not in url:
        raise UserError(
            f"Invalid store URL {mask_url(str(url))!r}; use memory://, sqlite:///path.db, "
            "postgresql://... or redis://host:6379/2"
        )
    scheme = url.partition("://")[0].lower()
    base = (
        scheme.split("+", 1)[0] if scheme in ("postgresql+psycopg", "sqlite+pysqlite") else scheme
    )
    if base == "memory":
        clean, ours = _pop_options(url, ("ttl",))
        options.setdefault("ttl", _ttl(ours.get("ttl"), url))
        return MemoryStore(**options)
    if base in _SQL:
        from .sql import SQLStore

        clean, ours = _pop_options(url, ("ttl", "schema", "durable"))
        options.setdefault("ttl", _ttl(ours.get("ttl"), url))
        if "schema" in ours:
            options.setdefault("schema", ours["schema"])
        if "durable" in ours:
            options.setdefault("durable", _flag(ours["durable"], "durable", url))
        return SQLStore(clean, **options)
    if base in _REDIS:
        from .redis import RedisStore

        clean, ours = _pop_options(url, ("ttl", "prefix"))
        if "ttl" in ours:
            options.setdefault("ttl", _ttl(ours["ttl"], url))
        if "prefix" in ours:
            options.setdefault("prefix", ours["prefix"])
        return RedisStore(clean, **options)
    raise UnknownNameError("store scheme", scheme, _KNOWN)
