"""``DJANGO_SETTINGS_MODULE`` of the test suite: Nautobot's loader applied to nautobot_config.py.

``load_settings`` also runs Nautobot's preprocessing (adding ``PLUGINS`` to ``INSTALLED_APPS``
and merging each app's default settings), which a plain import would skip.
"""

from pathlib import Path

from nautobot.core.cli import load_settings

load_settings(str(Path(__file__).with_name("nautobot_config.py")))

from nautobot_config import *  # noqa: E402, F403
