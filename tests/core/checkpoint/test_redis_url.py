"""Redis store URLs: single server, TLS, unix socket, Sentinel and Cluster."""

from __future__ import annotations

import pytest

from aiops_core.checkpoint.redis_url import close_client, connect, parse_redis_url
from aiops_core.errors import UserError

pytestmark = pytest.mark.anyio


def test_single_server() -> None:
    target = parse_redis_url("redis://user:p%40ss@cache.example:6380/4?socket_timeout=2")
    assert (target.kind, target.hosts, target.db) == ("server", (("cache.example", 6380),), 4)
    assert (target.username, target.password) == ("user", "p@ss")
    assert target.options == {"socket_timeout": "2"}
    assert "p%40ss" not in target.safe_url and "p@ss" not in repr(target)
    assert parse_redis_url("redis://localhost").db == 2
    assert parse_redis_url("redis://secret@localhost").password == "secret"
    assert parse_redis_url("rediss://localhost/1").tls


def test_unix_socket() -> None:
    target = parse_redis_url("unix:///run/redis.sock?db=3")
    assert (target.path, target.db) == ("/run/redis.sock", 3)


def test_sentinel() -> None:
    target = parse_redis_url("redis+sentinel://:pw@s1:26379,s2,[::1]:26380/mymaster/5")
    assert target.kind == "sentinel"
    assert target.hosts == (("s1", 26379), ("s2", 26379), ("::1", 26380))
    assert (target.service, target.db, target.password) == ("mymaster", 5, "pw")
    assert parse_redis_url("redis+sentinel://s1/mymaster").db == 2


def test_cluster() -> None:
    target = parse_redis_url("redis+cluster://:pw@n1:7000,n2:7001")
    assert target.cluster
    assert target.hosts == (("n1", 7000), ("n2", 7001))
    assert target.db == 0


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://:pw@h/abc", "invalid database"),
        ("redis://:pw@h:port/1", "invalid port"),
        ("redis://:pw@a,b/1", "several hosts"),
        ("redis+sentinel://:pw@s1:26379", "service name"),
        ("redis+cluster://:pw@n1/3", "only db 0"),
        ("http://:pw@h", "Not a Redis store URL"),
    ],
)
def test_mistakes_are_explained_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(UserError, match=problem) as caught:
        parse_redis_url(url)
    assert "pw" not in str(caught.value)


async def test_clients_of_each_kind() -> None:
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    server = connect(parse_redis_url("redis://127.0.0.1:6379/13"))
    assert isinstance(server, Redis)
    assert server.connection_pool.connection_kwargs["db"] == 13
    await server.aclose()
    sentinel = connect(parse_redis_url("redis+sentinel://127.0.0.1:26379/mymaster/3"))
    assert isinstance(sentinel, Redis)
    assert sentinel.connection_pool.service_name == "mymaster"
    await close_client(sentinel)
    cluster = connect(parse_redis_url("redis+cluster://127.0.0.1:7000"))
    assert isinstance(cluster, RedisCluster)
    await cluster.aclose()
