"""Parse Redis store URLs (single server, Sentinel, Cluster) and open ``redis.asyncio`` clients.

Accepted forms::

    redis://[[user]:password@]host[:port][/db]          default port 6379, db 2
    rediss://...                                        the same over TLS
    unix://[[user]:password@]/path/to/redis.sock?db=2
    redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/service_name[/db]
                                                        default port 26379, db 2
    redis+cluster://[[user]:password@]host[:port][,host[:port]...]
    rediss+cluster://...                                cluster over TLS (database 0 only)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import UserError

__all__ = ["DEFAULT_DB", "RedisTarget", "connect", "parse_redis_url"]

DEFAULT_DB = 2
"""Database a store URL without one uses: checkpoints keep a database of their own."""

_SCHEMES = (
    "redis",
    "rediss",
    "unix",
    "redis+sentinel",
    "rediss+sentinel",
    "redis+cluster",
    "rediss+cluster",
)


@dataclass(frozen=True)
class RedisTarget:
    """A parsed Redis URL. ``safe_url`` has the password masked; ``repr`` never shows it."""

    kind: str  # "server", "sentinel" or "cluster"
    safe_url: str
    hosts: tuple[tuple[str, int], ...] = ()
    db: int = DEFAULT_DB
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    service: str | None = None
    path: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def cluster(self) -> bool:
        """Whether the target is a Redis Cluster."""
        return self.kind == "cluster"


def _hosts(netloc: str, default_port: int, url: str) -> tuple[tuple[str, int], ...]:
    hosts = []
    for item in netloc.split(","):
        host, _, port = item.strip().rpartition(":") if ":" in item else (item.strip(), "", "")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not host:
            raise UserError(f"Redis URL {url} names no host; use redis://host:6379/2")
        try:
            hosts.append((host, int(port) if port else default_port))
        except ValueError:
            raise UserError(f"Redis URL {url} has an invalid port {port!r}") from None
    return tuple(hosts)


def _db(text: str, url: str) -> int:
    try:
        db = int(text)
    except ValueError:
        raise UserError(f"Redis URL {url} has an invalid database {text!r}; use a number") from None
    if db < 0:
        raise UserError(f"Redis URL {url} has a negative database number")
    return db


def parse_redis_url(url: str) -> RedisTarget:
    """Parse a Redis store URL.

    Raises:
        UserError: the URL is malformed or its scheme unknown (the message masks the password).
    """
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _SCHEMES:
        raise UserError(
            f"Not a Redis store URL; use one of {', '.join(s + '://' for s in _SCHEMES)}"
        )
    userinfo, at, tail = rest.rpartition("@") if "@" in rest.split("/", 1)[0] else ("", "", rest)
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
        if not colon:  # redis://secret@host is redis-py's password-only form
            username, password = None, unquote(user) or None
    safe = f"{scheme}://{'***@' if at else ''}{tail}"
    parts = urlsplit(f"{scheme}://{tail}")
    query = dict(parse_qsl(parts.query))
    tls = scheme.startswith("rediss")
    common = {"safe_url": safe, "username": username, "password": password, "tls": tls}
    if scheme == "unix":
        db = _db(query.pop("db", str(DEFAULT_DB)), safe)
        return RedisTarget("server", path=parts.path, db=db, options=query, **common)
    netloc = tail.split("/", 1)[0].split("?", 1)[0]
    path = [p for p in parts.path.split("/") if p]
    if scheme.endswith("+sentinel"):
        if not path:
            raise UserError(
                f"Redis Sentinel URL {safe} needs a service name: "
                "redis+sentinel://host:26379/mymaster/2"
            )
        db = _db(path[1], safe) if len(path) > 1 else DEFAULT_DB
        hosts = _hosts(netloc, 26379, safe)
        return RedisTarget("sentinel", hosts=hosts, service=path[0], db=db, options=query, **common)
    if scheme.endswith("+cluster"):
        if path and path != ["0"]:
            raise UserError(f"Redis Cluster URL {safe} names a database; a cluster has only db 0")
        hosts = _hosts(netloc, 6379, safe)
        return RedisTarget("cluster", hosts=hosts, db=0, options=query, **common)
    db = _db(path[0], safe) if path else DEFAULT_DB
    hosts = _hosts(netloc, 6379, safe)
    if len(hosts) != 1:
        raise UserError(
            f"Redis URL {safe} names several hosts; use redis+sentinel:// or redis+cluster://"
        )
    return RedisTarget("server", hosts=hosts, db=db, options=query, **common)


def connect(target: RedisTarget, options: dict[str, Any] | None = None) -> Any:
    """A ``redis.asyncio`` client (``Redis`` or ``RedisCluster``) for the target.

    ``options`` (and numeric URL query values such as ``socket_timeout``) go to the client.
    Connections open lazily, on the first command.
    """
    from redis import asyncio as aioredis

    kwargs: dict[str, Any] = {"socket_timeout": 5.0, "socket_connect_timeout": 5.0}
    for key, value in target.options.items():
        kwargs[key] = float(value) if key.endswith("timeout") else value
    kwargs.update(options or {})
    kwargs.update(username=target.username, password=target.password)
    if target.tls:
        kwargs["ssl"] = True
    if target.kind == "cluster":
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        nodes = [ClusterNode(host, port) for host, port in target.hosts]
        return RedisCluster(startup_nodes=nodes, **kwargs)
    if target.kind == "sentinel":
        from redis.asyncio.sentinel import Sentinel

        auth = {"username": target.username, "password": target.password}
        timeouts = {"socket_timeout": kwargs["socket_timeout"]}
        sentinel = Sentinel(list(target.hosts), sentinel_kwargs={**auth, **timeouts}, **kwargs)
        return sentinel.master_for(target.service or "mymaster", db=target.db)
    if target.path is not None:
        return aioredis.Redis(unix_socket_path=target.path, db=target.db, **kwargs)
    host, port = target.hosts[0]
    return aioredis.Redis(host=host, port=port, db=target.db, **kwargs)
