"""``features_server`` (see servers.py) over stdio: ``python tests/mcp_servers/features_stdio.py``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.mcp_servers.servers import features_server

if __name__ == "__main__":
    features_server().run("stdio")
