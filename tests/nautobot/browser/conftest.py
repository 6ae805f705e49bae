"""One Nautobot server and one Chromium for the browser tests of the chat page.

The server is ``nautobot-server runserver`` in a subprocess on 127.0.0.1, on the pytest test
database, with the rows this module commits (two chat users, three models, the ``tool_approval``
middleware and the real ``mcp-server-time``); they are deleted again at the end. Chromium is
Debian's ``/usr/bin/chromium``, driven by Playwright (no browser download). Screenshots go to
``build/browser-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("AIOPS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "build" / "browser-artifacts"
CONFIG = Path(__file__).with_name("nautobot_config.py")
PASSWORD = "browser-test-password"
TTL_MINUTES = 1
PREFIX = "browser-"


@dataclass
class Site:
    """The running server and the rows it serves."""

    url: str
    models: dict[str, str] = field(default_factory=dict)
    """Model name -> primary key (as the page's picker values)."""
    users: dict[str, Any] = field(default_factory=dict)
    tenant: str = ""
    """The primary key of the tenant alice may chat under."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _delete_rows() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models import Q
    from nautobot.extras.models import ObjectChange
    from nautobot.tenancy.models import Tenant
    from nautobot.users.models import ObjectPermission

    from aiops_nautobot.models import (
        Conversation,
        LLMModel,
        LLMProvider,
        MCPServer,
        ToolUsageRecord,
        UsageRecord,
    )

    users = get_user_model().objects.filter(username__startswith=PREFIX)
    Conversation.objects.filter(owner__in=users).delete()
    # Usage records outlive their user (SET_NULL): delete them first.
    UsageRecord.objects.filter(user__in=users).delete()
    ToolUsageRecord.objects.filter(user__in=users).delete()
    # The server's writes are change-logged and committed: leave no trace for other tests.
    ObjectChange.objects.filter(
        Q(user_name__startswith=PREFIX) | Q(object_repr__contains=PREFIX)
    ).delete()
    LLMModel.objects.filter(name__startswith=PREFIX).delete()
    Tenant.objects.filter(name__startswith=PREFIX).delete()
    LLMProvider.objects.filter(name="scripted", models__isnull=True).delete()  # "test" is seeded
    MCPServer.objects.filter(name=f"{PREFIX}time").delete()
    ObjectPermission.objects.filter(name__startswith=PREFIX).delete()
    users.delete()
    ObjectChange.objects.filter(
        Q(user_name__startswith=PREFIX) | Q(object_repr__contains=PREFIX)
    ).delete()


def _create_rows(site: Site) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from nautobot.tenancy.models import Tenant
    from nautobot.users.models import ObjectPermission

    from aiops_nautobot.models import (
        Conversation,
        LLMMiddleware,
        LLMModel,
        LLMProvider,
        MCPServer,
        MiddlewareType,
    )

    test, _ = LLMProvider.objects.get_or_create(name="test")
    scripted, _ = LLMProvider.objects.get_or_create(name="scripted")
    rows = {
        "assistant": LLMModel.objects.create(
            provider=test,
            name=f"{PREFIX}assistant",
            is_default=True,
            environment="LAB",
            config={"call_tools": ["get_current_time"], "chunk_size": 4},
        ),
        "guarded": LLMModel.objects.create(
            provider=test,
            name=f"{PREFIX}guarded",
            environment="LAB",
            config={"call_tools": ["get_current_time"]},
        ),
        "scripted": LLMModel.objects.create(
            provider=scripted, name=f"{PREFIX}scripted", environment="LAB"
        ),
    }
    approval, _ = MiddlewareType.objects.get_or_create(
        name="tool_approval", defaults={"is_builtin": True}
    )
    LLMMiddleware.objects.create(
        llm_model=rows["guarded"],
        middleware_type=approval,
        config={"tools": ["get_current_time"]},
        priority=25,
    )
    MCPServer.objects.create(
        name=f"{PREFIX}time",
        status="healthy",
        protocol="stdio",
        command_name="time",
        server_type="internal",
    )
    chat = ObjectPermission.objects.create(
        name=f"{PREFIX}chat", actions=["view", "delete", "use_chat"]
    )
    chat.object_types.add(ContentType.objects.get_for_model(Conversation))
    models = ObjectPermission.objects.create(name=f"{PREFIX}models", actions=["view"])
    models.object_types.add(ContentType.objects.get_for_model(LLMModel))
    for name in ("alice", "bob"):
        user = get_user_model().objects.create_user(username=f"{PREFIX}{name}", password=PASSWORD)
        chat.users.add(user)
        models.users.add(user)
        site.users[name] = user
    # A tenant with its own default model, which only alice may chat under.
    tenant = Tenant.objects.create(name=f"{PREFIX}tenant")
    rows["tenant"] = LLMModel.objects.create(
        provider=test,
        name=f"{PREFIX}tenant-model",
        is_default=True,
        environment="LAB",
        tenant=tenant,
        config={"call_tools": []},
    )
    tenants = ObjectPermission.objects.create(
        name=f"{PREFIX}tenants", actions=["view"], constraints={"name": tenant.name}
    )
    tenants.object_types.add(ContentType.objects.get_for_model(Tenant))
    tenants.users.add(site.users["alice"])
    site.tenant = str(tenant.pk)
    site.models = {name: str(row.pk) for name, row in rows.items()}


@pytest.fixture(scope="module")
def site(django_db_blocker: Any) -> Iterator[Site]:
    """The Nautobot server with the module's rows (committed to the test database)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (see .ci/run)")
    from django.db import connection

    port = _free_port()
    site = Site(url=f"http://127.0.0.1:{port}")
    with django_db_blocker.unblock():
        _delete_rows()
        _create_rows(site)
        database = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "NAUTOBOT_DB_NAME": database,
        "AIOPS_BROWSER_TTL_MINUTES": str(TTL_MINUTES),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (ARTIFACTS / "server.log").open("wb")
    server_bin = shutil.which("nautobot-server") or str(
        Path(sys.executable).with_name("nautobot-server")
    )
    process = subprocess.Popen(
        [
            server_bin,
            "--config",
            str(CONFIG),
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--insecure",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(f"{site.url}/login/", process)
        yield site
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        with django_db_blocker.unblock():
            _delete_rows()


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"nautobot-server exited ({process.returncode}): see {ARTIFACTS}/server.log"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"nautobot-server did not answer {url} within {timeout} s")


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    """Chromium; started after the server's rows are written (Playwright's sync API runs an
    event loop in this thread, where Django refuses ORM calls)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()
