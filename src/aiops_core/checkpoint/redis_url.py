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
from ..masking import mask_url

__all__ = [
    "DEFAULT_DB",
    "MAX_CONNECTIONS",
    "SCHEMES",
    "RedisTarget",
    "client_options",
    "close_client",
    "connect",
    "parse_redis_url",
]

DEFAULT_DB = 2
"""Database a store URL without one uses: checkpoints keep a database of their own."""

MAX_CONNECTIONS = 50
"""Connections (per node) a store opens at most unless told otherwise."""

SCHEMES = (
    "redis",
    "rediss",
    "unix",
    "redis+sentinel",
    "rediss+sentinel",
    "redis+cluster",
    "rediss+cluster",
)
"""URL schemes a Redis store accepts (this module imports no redis client, so others may use it)."""


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
    if not sep or scheme not in SCHEMES:
        raise UserError(
            f"Not a Redis store URL; use one of {', '.join(s + '://' for s in SCHEMES)}"
        )
    userinfo, at, tail = rest.rpartition("@") if "@" in rest.split("/", 1)[0] else ("", "", rest)
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
        if not colon:  # redis://secret@host is redis-py's password-only form
            username, password = None, unquote(user) or None
    safe = mask_url(f"{scheme}://{rest}")
    parts = urlsplit(f"{scheme}://{tail}")
    query = dict(parse_qsl(parts.query))
    tls = scheme.startswith("rediss")

    def target(kind: str, **fields: Any) -> RedisTarget:
        _query_options({k: v for k, v in query.items() if k != "db"}, safe)
        return RedisTarget(
            kind,
            safe_url=safe,
            username=username,
            password=password,
            tls=tls,
            options=query,
            **fields,
        )

    if scheme == "unix":
        return target("server", path=parts.path, db=_db(query.pop("db", str(DEFAULT_DB)), safe))
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
        return target("sentinel", hosts=hosts, service=path[0], db=db)
    if scheme.endswith("+cluster"):
        if path and path != ["0"]:
            raise UserError(f"Redis Cluster URL {safe} names a database; a cluster has only db 0")
        hosts = _hosts(netloc, 6379, safe)
        return target("cluster", hosts=hosts, db=0)
    db = _db(path[0], safe) if path else DEFAULT_DB
    hosts = _hosts(netloc, 6379, safe)
    if len(hosts) != 1:
        raise UserError(
            f"Redis URL {safe} names several hosts; use redis+sentinel:// or redis+cluster://"
        )
    return target("server", hosts=hosts, db=db)


def _bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


QUERY_OPTIONS: dict[str, Any] = {
    "socket_timeout": float,
    "socket_connect_timeout": float,
    "timeout": float,
    "health_check_interval": float,
    "max_connections": int,
    "socket_keepalive": _bool,
    "retry_on_timeout": _bool,
    "client_name": str,
    "ssl_cert_reqs": str,
    "ssl_ca_certs": str,
    "ssl_certfile": str,
    "ssl_keyfile": str,
}
"""Client options a Redis store URL may set in its query string, with their types."""


def _query_options(query: dict[str, str], url: str) -> dict[str, Any]:
    unknown = sorted(set(query) - set(QUERY_OPTIONS))
    if unknown:
        raise UserError(
            f"Redis URL {url} has unknown query parameter(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(QUERY_OPTIONS))} (and ttl, prefix)"
        )
    values: dict[str, Any] = {}
    for key, text in query.items():
        convert = QUERY_OPTIONS[key]
        try:
            values[key] = convert(text)
        except ValueError:
            kind = {float: "a number", int: "a whole number", _bool: "true or false"}.get(
                convert, "text"
            )
            raise UserError(f"Redis URL {url}: {key} must be {kind}, not {text!r}") from None
    return values


def client_options(target: RedisTarget, options: dict[str, Any] | None) -> dict[str, Any]:
    """Client keyword arguments: defaults, then the URL's query values, then ``options``."""
    kwargs: dict[str, Any] = {
        "socket_timeout": 5.0,
        "socket_connect_timeout": 5.0,
        "max_connections": MAX_CONNECTIONS,
    }
    kwargs.update(_query_options(target.options, target.safe_url))
    kwargs.update(options or {})
    return kwargs


def connect(target: RedisTarget, options: dict[str, Any] | None = None) -> Any:
    """A ``redis.asyncio`` client (``Redis`` or ``RedisCluster``) for the target.

    ``options`` (and URL query values such as ``socket_timeout``) go to the client or its pool.
    A single server gets a blocking pool of ``max_connections`` (default
    :data:`MAX_CONNECTIONS`): a burst of callers waits up to ``timeout`` seconds for a
    connection. Connections open on the first command.
    """
    from redis import asyncio as aioredis

    kwargs = client_options(target, options)
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
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            list(target.hosts), sentinel_kwargs={**auth, **timeouts}, **kwargs
        )
        return sentinel.master_for(target.service or "mymaster", db=target.db)
    # A blocking pool makes a burst of callers wait for a connection instead of failing.
    kwargs.setdefault("timeout", 20.0)
    if target.path is not None:
        kwargs.pop("ssl", None)
        pool = aioredis.BlockingConnectionPool(
            connection_class=aioredis.UnixDomainSocketConnection,
            path=target.path,
            db=target.db,
            **kwargs,
        )
    else:
        host, port = target.hosts[0]
        if kwargs.pop("ssl", False):
            kwargs["connection_class"] = aioredis.SSLConnection
        pool = aioredis.BlockingConnectionPool(host=host, port=port, db=target.db, **kwargs)
    return aioredis.Redis.from_pool(pool)


async def close_client(client: Any) -> None:
    """Close a client from :func:`connect`, including a Sentinel client's sentinel connections."""
    manager = getattr(getattr(client, "connection_pool", None), "sentinel_manager", None)
    await client.aclose()
    for sentinel in getattr(manager, "sentinels", ()):
        await sentinel.aclose()
