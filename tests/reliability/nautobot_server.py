"""A real Nautobot for the load test: ``nautobot-server start`` (uWSGI, as Nautobot deploys it:
a master, worker processes with threads, a listen backlog) as a subprocess on the migrated test
database, with rows made by a setup script in another subprocess.

Django's ``runserver`` is not used: its listen backlog is 10 connections, so 50 clients arriving
at once overflow it and the kernel resets some of them (seen as ``ReadError`` on a loaded machine).

The suite's Nautobot tests keep their database (``test_<NAUTOBOT_DB_NAME>``, see
tests/nautobot/conftest.py); this server uses the same one. The rows it needs (a superuser and
its token, an ``openai`` provider and default model on the fake provider, one HTTP MCP server)
are created before and deleted after, so the database is left as found.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.mcp_servers.support import ROOT, free_port, wait_until

__all__ = ["NautobotServer", "nautobot_database"]

CONFIG = """
import importlib.util
# Nautobot loads this file as the module "nautobot_config": load the suite's under another name.
spec = importlib.util.spec_from_file_location("aiops_suite_config", {path!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
globals().update({{k: v for k, v in vars(suite).items() if not k.startswith("_")}})
PLUGINS_CONFIG = {{"aiops_nautobot": {{**AIOPS_TEST_CONFIG, "checkpoint_url": {store!r}}}}}
"""

SETUP = """
import nautobot
nautobot.setup({config!r})
from django.contrib.auth import get_user_model
from nautobot.users.models import Token
from aiops_nautobot.models import LLMModel, LLMProvider, MCPServer, MCPTool
user = get_user_model().objects.create_superuser("{tag}", password="x-{tag}")
Token.objects.create(user=user, key="{token}", write_enabled=True)
# The migration seeds an "openai" provider, and an interrupted earlier run may have left its
# rows: take the provider over and drop what is left on it.
LLMModel.objects.filter(provider__name="openai").delete()
LLMModel.objects.filter(is_default=True).update(is_default=False)
provider, _ = LLMProvider.objects.update_or_create(
    name="openai", defaults={{"config": {{"base_url": "{llm}/v1"}}}}
)
LLMModel.objects.create(  # priced, as budgets need
    provider=provider, name="gpt-4o-mini", is_default=True, input_price=0.15, output_price=0.6
)
mcp = MCPServer.objects.create(
    name="{tag}-mcp", status="healthy", protocol="http", url="{mcp}", server_type="internal"
)
# The tool catalog refuses writable tools nobody reviewed: an admin marked echo read-only.
MCPTool.objects.create(server=mcp, name="echo", access="read_only")
"""

# Nautobot's documented uWSGI settings, sized for the test (by default 2 processes x 16 threads
# serve 32 turns at once and the backlog queues the rest). The request buffer is uWSGI's largest:
# with a smaller one uWSGI drops a long query string without an answer, where a deployment's
# proxy would answer 414; the fuzz sends such query strings to Nautobot's filters. Every
# response closes its connection (no keep-alive race between a server closing an idle socket and
# a client reusing it).
UWSGI = """
[uwsgi]
http-socket = 127.0.0.1:{port}
master = true
processes = {processes}
threads = {threads}
enable-threads = true
lazy-apps = true
die-on-term = true
listen = 128
buffer-size = 65535
disable-logging = true
"""

TEARDOWN = """
import nautobot
nautobot.setup({config!r})
from django.contrib.auth import get_user_model
from aiops_nautobot.models import Conversation, LLMModel, LLMProvider, MCPServer
Conversation.objects.filter(owner__username="{tag}").delete()
LLMModel.objects.filter(provider__name="openai").delete()
LLMProvider.objects.filter(name="openai").delete()
MCPServer.objects.filter(name="{tag}-mcp").delete()
get_user_model().objects.filter(username="{tag}").delete()
"""

# Clients of the server (the API fuzzer) create rows of their own: every AI Ops row, note and
# change made since the server started goes. Dependent rows first, so a few passes.
SWEEP = """
from datetime import datetime
from django.apps import apps
from django.db.models import ProtectedError
from nautobot.extras.models import Note, ObjectChange
since = datetime.fromisoformat("{started}")
def stamp(model):  # the field that says when a row was made
    names = {{f.name for f in model._meta.get_fields()}}
    return next((n for n in ("created", "started_at", "checked_at") if n in names), None)
models = [(m, stamp(m)) for m in [*apps.get_app_config("aiops_nautobot").get_models(), Note]]
for _ in range(4):
    for model, field in models:
        if field is None:
            continue
        try:
            model.objects.filter(**{{field + "__gte": since}}).delete()
        except ProtectedError:
            pass
ObjectChange.objects.filter(time__gte=since).delete()
"""


def nautobot_database() -> str:
    """The name of the suite's migrated Nautobot test database."""
    return "test_" + os.environ.get("NAUTOBOT_DB_NAME", "nautobot_aiops")


def database_exists(name: str) -> bool:
    done = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
         f"select 1 from pg_database where datname='{name}'", "postgres"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip() == "1"


class NautobotServer:
    """Nautobot on a free port, talking to the fake provider ``llm`` and the MCP server ``mcp``."""

    def __init__(
        self,
        folder: Path,
        *,
        llm: str,
        mcp: str,
        store: str,
        tag: str,
        processes: int = 2,
        threads: int = 16,
        database: str | None = None,
    ) -> None:
        self.port = free_port()
        self.processes, self.threads = processes, threads
        self.url = f"http://127.0.0.1:{self.port}"
        self.tag = tag
        self.token = f"{tag}-token-0123456789abcdef"[:40]
        self.config = folder / "nautobot_config.py"
        suite_config = ROOT / "tests" / "nautobot" / "nautobot_config.py"
        self.config.write_text(CONFIG.format(path=str(suite_config), store=store))
        self.llm, self.mcp = llm, mcp
        self.env = {
            **os.environ,
            "NAUTOBOT_DB_NAME": database or nautobot_database(),
            "OPENAI_API_KEY": "sk-reliability-nautobot",
            "PYTHONPATH": str(ROOT),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.started = datetime.now(UTC)
        self.log = folder / "nautobot.log"

    def _script(self, template: str) -> None:
        source = template.format(
            config=str(self.config),
            tag=self.tag,
            token=self.token,
            llm=self.llm,
            mcp=self.mcp,
            started=self.started.isoformat(),
        )
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(source)],
            env=self.env, cwd=ROOT, check=False, capture_output=True, timeout=300, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health/", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def start(self) -> None:
        self.started = datetime.now(UTC) - timedelta(seconds=1)
        self._script(TEARDOWN + SETUP.split("nautobot.setup({config!r})", 1)[1])  # one process
        ini = self.config.with_name("uwsgi.ini")
        ini.write_text(UWSGI.format(port=self.port, processes=self.processes, threads=self.threads))
        argv = ["nautobot-server", "--config", str(self.config), "start", "--ini", str(ini)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(argv, env=self.env, cwd=ROOT, stdout=log, stderr=log)
        try:
            wait_until(self._up, timeout=180, interval=0.5)
        except AssertionError:
            raise AssertionError(self.log.read_text()[-3000:]) from None

    def workers(self) -> list[int]:
        """PIDs of the uWSGI worker processes: the children of the master this test started."""
        assert self.process is not None
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (comm)"
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def stop(self) -> None:
        """Stops the server and deletes what it made, rows its clients created included."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        self._script(TEARDOWN + SWEEP)
