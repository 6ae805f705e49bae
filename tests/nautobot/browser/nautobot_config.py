"""Nautobot configuration of the browser tests' server: the tests' config plus the ``scripted``
provider (see ``tests/nautobot/scripted_model.py``) and the page's session TTL.

The server runs on the test database itself (``NAUTOBOT_DB_NAME=test_...``), so the rows the test
module commits are what it serves.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository, for ``tests``

from aiops_core.providers import register_provider
from tests.nautobot.nautobot_config import *  # noqa: F403
from tests.nautobot.nautobot_config import AIOPS_TEST_CONFIG

register_provider("scripted", "tests.nautobot.scripted_model:ScriptedHandler")

DEBUG = False
PLUGINS_CONFIG = {
    "aiops_nautobot": {
        **AIOPS_TEST_CONFIG,
        "chat_session_ttl_minutes": int(os.environ.get("AIOPS_BROWSER_TTL_MINUTES", "5")),
        "request_timeout_seconds": 60,
    }
}
