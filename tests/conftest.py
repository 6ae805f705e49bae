"""Shared fixtures: the anyio backend and the real PostgreSQL / Redis services.

Under ``CI=true`` a test that needs a missing service fails; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import socket
import sys
import textwrap

import pytest

POSTGRES_URL = os.environ.get(
    "AIOPS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# One Redis port for the suite and Nautobot's cache: a second checkout can run beside this one
# against a redis-server of its own (NAUTOBOT_REDIS_PORT=6390 pytest ...).
REDIS_HOST, REDIS_PORT = "127.0.0.1", int(os.environ.get("NAUTOBOT_REDIS_PORT", "6379"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip (or fail under CI) when a service does not answer."""
    if _reachable(host, port):
        return
    message = f"{name} is not answering on {host}:{port}; start it (see .ci/run)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def redis_url_factory():
    """``redis_url_factory(db)`` -> a URL for a Redis database, after checking Redis answers.

    Databases in use by the suite: 2 (store default, never flushed by tests), 12 benchmarks,
    13 checkpoint-store tests, 14 middleware tests, 15 MCP/other tests.
    """
    require_service("Redis", REDIS_HOST, REDIS_PORT)
    return lambda db: f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"


@pytest.fixture
def postgres_url() -> str:
    """A SQLAlchemy-style URL of the ``test`` database, after checking PostgreSQL answers."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


@pytest.fixture
def install_distribution(tmp_path, monkeypatch):
    """``install_distribution(package, source, entry_points)``: a real installed distribution.

    Writes ``package/__init__.py`` with ``source`` and a ``.dist-info`` declaring
    ``entry_points`` (``{group: {name: "module:attr"}}``) under ``tmp_path``, and puts it on
    ``sys.path`` for the test, so ``importlib.metadata`` finds it as it finds any plug-in.
    """

    def install(package: str, source: str, entry_points: dict[str, dict[str, str]]) -> None:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text(textwrap.dedent(source))
        dist = tmp_path / f"{package}-1.0.dist-info"
        dist.mkdir()
        name = package.replace("_", "-")
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = [
            f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in entries.items())
            for group, entries in entry_points.items()
        ]
        (dist / "entry_points.txt").write_text("\n".join(lines))
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.delitem(sys.modules, package, raising=False)

    return install
