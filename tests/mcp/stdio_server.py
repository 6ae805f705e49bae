"""A stdio MCP server whose behaviour the fault tests control through a mode file.

``python tests/mcp/stdio_server.py MODE_FILE``; the file holds one word, read at start:

- ``normal``: a working server (tools ``pid``, ``echo``, ``sleep``, ``crash``, ``garble``);
- ``silent``: reads its input and never answers (a handshake that never completes);
- ``garbage``: answers every line with text that is not JSON.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def silent() -> None:
    for _ in sys.stdin:
        pass


def garbage() -> None:
    for _ in sys.stdin:
        sys.stdout.write("this is not JSON-RPC {\n")
        sys.stdout.flush()


def normal() -> None:
    import anyio
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("stdio-test")

    @server.tool()
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Sleep, then answer."""
        await anyio.sleep(seconds)
        return "slept"

    @server.tool()
    def crash() -> str:
        """Exit the process in the middle of the call."""
        os._exit(3)

    @server.tool()
    def garble() -> str:
        """Write a line that is not JSON to stdout, then answer."""
        sys.stdout.write("garbled output\n")
        sys.stdout.flush()
        time.sleep(0.2)
        return "garbled"

    server.run("stdio")


if __name__ == "__main__":
    mode = Path(sys.argv[1]).read_text().strip() if len(sys.argv) > 1 else "normal"
    {"normal": normal, "silent": silent, "garbage": garbage}[mode]()
