"""Our own HTTP MCP server: ``python tests/mcp_servers/http_server.py PORT [--token T] [--sse]``.

Serves streamable HTTP at ``/mcp`` (or, with ``--sse``, the legacy SSE transport at ``/sse``) and
``GET /health`` (``{"status": "ok"}``). With a token, MCP requests need
``Authorization: Bearer TOKEN`` (the health endpoint stays public). Tools: ``echo``,
``fail``, ``slow``, ``snapshot`` (an image), ``whoami`` (the process id).
"""

from __future__ import annotations

import argparse
import os

import anyio
import uvicorn
from mcp.server.mcpserver import Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

TINY_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def build(token: str | None = None, sse: bool = False):
    server = MCPServer("http-test")

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @server.tool()
    def fail() -> str:
        """Always fails."""
        raise ToolError("the device refused the change")

    @server.tool()
    async def slow(seconds: float = 5.0) -> str:
        """Sleep, then answer."""
        await anyio.sleep(seconds)
        return "done"

    @server.tool()
    def snapshot() -> Image:
        """A tiny PNG."""
        return Image(data=TINY_PNG, format="png")

    @server.tool()
    def whoami() -> int:
        """The server's process id."""
        return os.getpid()

    @server.custom_route("/health", methods=["GET"])
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = server.sse_app() if sse else server.streamable_http_app()
    if token is None:
        return app

    async def guarded(scope, receive, send):
        if scope["type"] == "http" and scope["path"] != "/health":
            headers = dict(scope["headers"])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await JSONResponse({"error": "unauthorized"}, status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--token")
    parser.add_argument("--sse", action="store_true")
    args = parser.parse_args()
    uvicorn.run(
        build(args.token, args.sse),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="on",
    )
