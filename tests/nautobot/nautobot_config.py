"""Nautobot configuration for the app's tests and for a local development server.

Usable directly: ``nautobot-server --config tests/nautobot/nautobot_config.py runserver``.
Database and Redis come from the ``NAUTOBOT_DB_*`` / ``NAUTOBOT_REDIS_*`` environment variables,
with defaults for the services on 127.0.0.1 (trust auth, user ``postgres``).
"""

import os
import sys

from nautobot.core.settings import *  # noqa: F403
from nautobot.core.settings import CACHES, DATABASES
from nautobot.core.settings_funcs import parse_redis_connection

# Nautobot's settings module may have been imported before this file ran (it is imported by
# the ``nautobot`` package), so the values derived from the environment are set again here.
os.environ.setdefault("NAUTOBOT_REDIS_HOST", "127.0.0.1")
DATABASES["default"].update(
    {
        "NAME": os.getenv("NAUTOBOT_DB_NAME", "nautobot_aiops"),
        "USER": os.getenv("NAUTOBOT_DB_USER", "postgres"),
        "PASSWORD": os.getenv("NAUTOBOT_DB_PASSWORD", ""),
        "HOST": os.getenv("NAUTOBOT_DB_HOST", "127.0.0.1"),
        "PORT": os.getenv("NAUTOBOT_DB_PORT", "5432"),
        "ENGINE": "django.db.backends.postgresql",
    }
)
DATABASES["default"]["TEST"] = {"NAME": "test_" + DATABASES["default"]["NAME"]}
CACHES["default"]["LOCATION"] = parse_redis_connection(redis_database=1)

# Only for tests and the local development server; set NAUTOBOT_SECRET_KEY elsewhere.
SECRET_KEY = os.getenv("NAUTOBOT_SECRET_KEY", "aiops-tests-only-" + "x" * 50)
ALLOWED_HOSTS = ["*"]
INSTALLATION_METRICS_ENABLED = False
METRICS_ENABLED = False
OTEL_TRACES_EXPORTER = ["none"]
OTEL_METRICS_EXPORTER = ["none"]

PLUGINS = ["aiops_nautobot"]
# As an operator would: the tests' local wire servers and MCP servers listen on 127.0.0.1, and
# the real mcp-server-time is the one stdio command. The security tests narrow these down.
AIOPS_TEST_CONFIG = {
    "allowed_urls": {
        "llm": ["default", "http://127.0.0.1:*"],
        "mcp": ["http://127.0.0.1:*"],
        "redis": ["default", "redis://127.0.0.1:*"],
    },
    "stdio_commands": {
        "time": {"argv": [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]},
    },
}
PLUGINS_CONFIG = {"aiops_nautobot": dict(AIOPS_TEST_CONFIG)}

# Jobs run in-process; no Celery worker and no broker traffic in tests.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_STORE_EAGER_RESULT = True
CELERY_BROKER_URL = "memory://"
CONSTANCE_BACKEND = "constance.backends.memory.MemoryBackend"
CONTENT_TYPE_CACHE_TIMEOUT = 0
# Nautobot's ReDoS guard (bulk rename, regex custom fields) aborts a regex after this many seconds.
# The base view tests give the whole request 5 s of wall time; a short guard keeps them inside it
# on a loaded 2-core machine.
REGEX_TIMEOUT = 0.25
