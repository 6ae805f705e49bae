"""``RedisStore`` through Redis Sentinel and on a Redis Cluster, both real and local.

The module starts its own ``redis-server`` processes on free ports (a Sentinel watching the
shared server on 6379, and a three-node cluster) and stops them afterwards.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from aiops_core import open_store
from aiops_core.checkpoint import CheckpointStore, RedisStore

from .contract import StoreContract, StoreFactory, turn

pytestmark = [pytest.mark.anyio, pytest.mark.redis, pytest.mark.slow]

DB = 13


def _free_port(avoid_bus: bool = False) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if not avoid_bus or (port + 10000 < 65536 and _unused(port + 10000)):
            return port


def _unused(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up")


def _cli(port: int, *args: str) -> str:
    done = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return done.stdout


@pytest.fixture(scope="module")
def redis_binaries() -> None:
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        pytest.skip("redis-server and redis-cli are needed to start Sentinel and Cluster")


@pytest.fixture(scope="module")
def sentinel_port(redis_binaries: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    from tests.conftest import REDIS_PORT, require_service

    require_service("Redis", "127.0.0.1", REDIS_PORT)
    folder = tmp_path_factory.mktemp("sentinel")
    port = _free_port()
    config = folder / "sentinel.conf"
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
        f"sentinel monitor aiopstest 127.0.0.1 {REDIS_PORT} 1\n"
        "sentinel down-after-milliseconds aiopstest 600000\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        ["redis-server", str(config), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait(
            lambda: "127.0.0.1" in _cli(port, "sentinel", "get-master-addr-by-name", "aiopstest"),
            "Redis Sentinel",
        )
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def cluster_port(redis_binaries: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    folder: Path = tmp_path_factory.mktemp("cluster")
    ports = [_free_port(avoid_bus=True) for _ in range(3)]
    processes = [
        subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            _wait(lambda port=port: _cli(port, "ping").strip() == "PONG", "cluster node")
        nodes = [f"127.0.0.1:{p}" for p in ports]
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *nodes,
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            timeout=30,
            check=True,
        )
        _wait(
            lambda: all("cluster_state:ok" in _cli(p, "cluster", "info") for p in ports),
            "Redis Cluster",
        )
        yield ports[0]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


async def _wipe(store: RedisStore) -> None:
    client = store.client
    async for key in client.scan_iter(match=f"{store.prefix}:*", count=500):
        await client.delete(key)


class _Topology(StoreContract):
    url: str
    server_time = True

    @pytest.fixture
    async def store_factory(self) -> AsyncIterator[StoreFactory]:
        made: list[RedisStore] = []
        self.store_url = f"{self.url}?prefix=cptest-{uuid.uuid4().hex[:10]}"

        def factory(**options: object) -> RedisStore:
            assert self.store_url is not None
            store = open_store(self.store_url, **options)
            assert isinstance(store, RedisStore)
            made.append(store)
            return store

        yield factory
        if made:
            await _wipe(made[0])
        for store in made:
            await store.aclose()

    async def corrupt(self, store: CheckpointStore, thread_id: str) -> None:
        assert isinstance(store, RedisStore)
        await store.client.rpush(store._keys(thread_id)[1], b"{broken")


class TestRedisThroughSentinel(_Topology):
    @pytest.fixture(autouse=True)
    def _where(self, sentinel_port: int) -> None:
        self.url = f"redis+sentinel://127.0.0.1:{sentinel_port}/aiopstest/{DB}"


class TestRedisCluster(_Topology):
    @pytest.fixture(autouse=True)
    def _where(self, cluster_port: int) -> None:
        self.url = f"redis+cluster://127.0.0.1:{cluster_port}"

    async def test_threads_spread_over_slots_and_keep_their_keys_together(
        self, store: CheckpointStore
    ) -> None:
        from redis.crc import key_slot

        assert isinstance(store, RedisStore) and store.target.cluster
        slots = set()
        for i in range(20):
            await store.append(f"ticket-{i}", turn(str(i)))
            keys = [k.encode() for k in store._keys(f"ticket-{i}")]
            assert len({key_slot(k) for k in keys}) == 1
            slots.add(key_slot(keys[0]))
        assert len(slots) > 1
        assert await store.count() == 20
