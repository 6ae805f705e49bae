"""A fast local server that speaks the OpenAI Chat Completions wire format.

It answers ``POST /v1/chat/completions`` like a model that uses tools once: when the last message
is not a tool result and tools were offered, it calls the first tool (string arguments filled with
``"core-sw-01"``); once a tool result arrives it answers with final text. ``"stream": true`` gets
Server-Sent Events with incremental tool-call arguments and a closing ``data: [DONE]``.

It is a bare asyncio protocol (HTTP/1.1 keep-alive, no framework) so that the server, which runs in
its own process, costs far less per request than any client and never becomes the bottleneck.

Run it with ``python -m benchmarks._server [--port 0] [--latency SECONDS]``: it prints
``PORT <n>`` once listening. :func:`serve_openai` does that in a child process for the benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["FINAL_TEXT", "SERVER_CPU", "pin_client", "serve_openai"]

FINAL_TEXT = "core-sw-01 is up: all 48 interfaces are operational and the CPU load is 12%."
_IDS = itertools.count(1)

SERVER_CPU: int | None = (os.cpu_count() or 1) - 1 if (os.cpu_count() or 1) >= 2 else None
"""The CPU the server is pinned to (the last one); the client keeps to the others."""


def pin_client() -> None:
    """Keep this (client) process off :data:`SERVER_CPU`: server work never steals client time."""
    if SERVER_CPU is not None and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, set(range(SERVER_CPU)))


def _tool_arguments(tool: dict[str, Any]) -> str:
    params = tool.get("function", {}).get("parameters", {}) or {}
    props = params.get("properties", {})
    args = {
        name: "core-sw-01" if spec.get("type", "string") == "string" else 1
        for name, spec in props.items()
        if name in params.get("required", list(props))
    }
    return json.dumps(args, separators=(",", ":"))


def _plan(body: dict[str, Any]) -> tuple[str | None, tuple[str, str, str] | None]:
    """(text, tool call) the fake model answers with."""
    messages = body.get("messages") or [{}]
    tools = body.get("tools") or []
    if messages[-1].get("role") != "tool" and tools:
        call_id = f"call_{next(_IDS)}"
        tool = tools[0]
        return None, (call_id, tool["function"]["name"], _tool_arguments(tool))
    return FINAL_TEXT, None


def _usage(body: dict[str, Any]) -> dict[str, int]:
    prompt = 20 * len(body.get("messages") or ())
    return {"prompt_tokens": prompt, "completion_tokens": 16, "total_tokens": prompt + 16}


def completion(body: dict[str, Any]) -> bytes:
    """A non-streaming ``chat.completion`` JSON body."""
    text, call = _plan(body)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if call is not None:
        message["tool_calls"] = [
            {"id": call[0], "type": "function", "function": {"name": call[1], "arguments": call[2]}}
        ]
    payload = {
        "id": f"chatcmpl-{next(_IDS)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "bench"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if call else "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(body),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def completion_stream(body: dict[str, Any]) -> bytes:
    """A streamed answer as one SSE body (``chat.completion.chunk`` events, then ``[DONE]``)."""
    text, call = _plan(body)
    base = {
        "id": f"chatcmpl-{next(_IDS)}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "bench"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> str:
        event = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if usage is not None:
            event = {**base, "choices": [], "usage": usage}
        return "data: " + json.dumps(event, separators=(",", ":")) + "\n\n"

    out = [chunk({"role": "assistant", "content": ""})]
    if call is not None:
        call_id, name, arguments = call
        head = {
            "index": 0,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        out.append(chunk({"tool_calls": [head]}))
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            out.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        out.append(chunk({}, "tool_calls"))
    else:
        assert text is not None
        words = text.split(" ")
        for i in range(0, len(words), 4):
            piece = " ".join(words[i : i + 4]) + (" " if i + 4 < len(words) else "")
            out.append(chunk({"content": piece}))
        out.append(chunk({}, "stop"))
    if (body.get("stream_options") or {}).get("include_usage"):
        out.append(chunk({}, usage=_usage(body)))
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests are answered in order."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                key, _, value = line.partition(":")
                if key.strip().lower() == "content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body, self.buffer = self.buffer[end + 4 : total], self.buffer[total:]
            method, path = head[0].split(" ")[:2]
            response = self.respond(method, path, body)
            if self.latency > 0:
                asyncio.get_running_loop().call_later(self.latency, self.send, response)
            else:
                self.send(response)

    def respond(self, method: str, path: str, raw: bytes) -> bytes:
        if method != "POST" or not path.split("?")[0].endswith("/chat/completions"):
            return _http(404, b'{"error":{"message":"not found","type":"invalid_request_error"}}')
        try:
            body = json.loads(raw)
        except ValueError:
            return _http(
                400, b'{"error":{"message":"invalid JSON","type":"invalid_request_error"}}'
            )
        if body.get("stream"):
            return _http(200, completion_stream(body), "text/event-stream")
        return _http(200, completion(body))

    def send(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)


def _http(status: int, body: bytes, content_type: str = "application/json") -> bytes:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\nconnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def _serve(host: str, port: int, latency: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(latency), host, port, backlog=2048)
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    async with server:
        await server.serve_forever()


@contextlib.contextmanager
def serve_openai(latency: float = 0.0, cpu: int | None = SERVER_CPU) -> Iterator[str]:
    """Run the server in a child process; yields its base URL (``http://127.0.0.1:<port>/v1``).

    Args:
        latency: seconds the server waits before each answer (simulated model time).
        cpu: pin the server to this CPU (keeps it off the client's core on small machines).
    """
    cmd = [sys.executable, "-m", "benchmarks._server", "--latency", str(latency)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env, text=True)
    try:
        if cpu is not None and hasattr(os, "sched_setaffinity"):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(proc.pid, {cpu})
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"benchmark server did not start (said {line!r})")
        yield f"http://127.0.0.1:{int(line.split()[1])}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, args.latency))


if __name__ == "__main__":
    main()
