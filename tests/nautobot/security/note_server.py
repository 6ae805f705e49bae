"""A stdio MCP server with one write tool, ``write_note``, whose every run appends a line to a
file (``python note_server.py LOG_FILE``): the approval tests count the lines."""

from __future__ import annotations

import sys

from mcp.server.mcpserver import MCPServer

LOG = sys.argv[1]

server = MCPServer("notes")


@server.tool()
def write_note(text: str) -> str:
    """Write a note (a write action: it needs approval)."""
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(text + "\n")
    return "written"


if __name__ == "__main__":
    server.run()
