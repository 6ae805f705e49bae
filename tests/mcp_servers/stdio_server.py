"""A small stdio MCP server (hand-written JSON-RPC, so it starts in milliseconds) for fault tests.

``python tests/mcp_servers/stdio_server.py MODE_FILE``; the file holds one word, read at start:

- ``normal``: a working server with tools ``pid``, ``echo``, ``sleep`` (answers from a thread, so
  calls overlap), ``crash`` (exits mid-call), ``garble`` (answers with a line that is not JSON),
  ``flood`` (a result of ``chars`` characters) and ``flood_error`` (an error result that long);
- ``silent``: reads its input and never answers (a handshake that never completes);
- ``garbage``: answers every line with text that is not JSON.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

LOCK = threading.Lock()

TOOLS = [
    {"name": "pid", "description": "The server's process id.", "inputSchema": {"type": "object"}},
    {
        "name": "echo",
        "description": "Echo the text back.",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    },
    {
        "name": "sleep",
        "description": "Sleep, then answer.",
        "inputSchema": {"type": "object", "properties": {"seconds": {"type": "number"}}},
    },
    {"name": "crash", "description": "Exit mid-call.", "inputSchema": {"type": "object"}},
    {
        "name": "flood",
        "description": "A huge result.",
        "inputSchema": {"type": "object", "properties": {"chars": {"type": "integer"}}},
    },
    {
        "name": "flood_error",
        "description": "A huge error.",
        "inputSchema": {"type": "object", "properties": {"chars": {"type": "integer"}}},
    },
    {"name": "garble", "description": "Answer garbage.", "inputSchema": {"type": "object"}},
]


def write(line: str) -> None:
    with LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def reply(request_id: Any, result: dict[str, Any]) -> None:
    write(json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}))


def text(request_id: Any, value: str) -> None:
    reply(request_id, {"content": [{"type": "text", "text": value}], "isError": False})


def call(request_id: Any, name: str, arguments: dict[str, Any]) -> None:
    if name == "pid":
        text(request_id, str(os.getpid()))
    elif name == "echo":
        text(request_id, str(arguments.get("text", "")))
    elif name == "sleep":
        timer = threading.Timer(float(arguments.get("seconds", 1)), text, (request_id, "slept"))
        timer.daemon = True
        timer.start()
    elif name == "crash":
        os._exit(3)
    elif name == "garble":
        write("garbled output, not JSON")
    elif name in ("flood", "flood_error"):
        chars = int(arguments.get("chars", 1_000_000))
        line = "interface Ethernet1/1 is up, line protocol is up\n"
        body = (line * (chars // len(line) + 1))[:chars]
        result = {"content": [{"type": "text", "text": body}], "isError": name == "flood_error"}
        reply(request_id, result)
    else:
        reply(
            request_id,
            {"content": [{"type": "text", "text": f"Unknown tool: {name}"}], "isError": True},
        )


def normal() -> None:
    for line in sys.stdin:
        message = json.loads(line)
        method, request_id = message.get("method"), message.get("id")
        params = message.get("params") or {}
        if request_id is None:
            continue  # notifications
        if method == "initialize":
            reply(
                request_id,
                {
                    "protocolVersion": params.get("protocolVersion", "2025-06-18"),
                    "capabilities": {"tools": {"listChanged": False}},
                    "serverInfo": {"name": "stdio-test", "version": "1"},
                },
            )
        elif method == "tools/list":
            reply(request_id, {"tools": TOOLS})
        elif method == "tools/call":
            call(request_id, params["name"], params.get("arguments") or {})
        elif method == "ping":
            reply(request_id, {})
        else:
            write(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": request_id,
                        "error": {"code": -32601, "message": "Method not found"},
                    }
                )
            )


def silent() -> None:
    for _ in sys.stdin:
        pass


def garbage() -> None:
    for _ in sys.stdin:
        write("this is not JSON-RPC {")


if __name__ == "__main__":
    mode = Path(sys.argv[1]).read_text().strip() if len(sys.argv) > 1 else "normal"
    {"normal": normal, "silent": silent, "garbage": garbage}[mode]()
