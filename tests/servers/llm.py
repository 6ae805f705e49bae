"""A scriptable local LLM server speaking five wire formats, for tests and benchmarks.

One stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (random port) answers:

- OpenAI Chat Completions: ``POST /v1/chat/completions`` (JSON, or SSE when ``stream`` is true);
  HuggingFace's OpenAI-compatible route ``POST /v1/chat/completions`` is the same.
- OpenAI Responses: ``POST /v1/responses`` (Azure: ``/openai/responses?api-version=...``), see
  :mod:`tests.servers.llm_responses`.
- Azure OpenAI: ``POST /openai/deployments/{deployment}/chat/completions?api-version=...``.
- Anthropic Messages: ``POST /v1/messages`` (JSON, or SSE events when streaming).
- Ollama: ``POST /api/chat`` (JSON, or NDJSON when streaming), ``GET /api/tags``, ``GET /api/version``.

Requests are checked against each provider's rules before an answer is rendered
(:mod:`tests.servers.llm_rules`): thinking signatures, reasoning items and parameters that the
real APIs refuse get the real APIs' error answers. Reasoning (``Reply.thinking``) is rendered where
the request turned it on: Anthropic ``thinking`` blocks (signed), ``reasoning_content`` on Chat
Completions (as vLLM-style servers send it), Responses ``reasoning`` items (summaries, encrypted
content) and Ollama's ``thinking``.

Replies are scripted in a provider-neutral form (:class:`Reply`, :class:`Fail`, :class:`Hang`,
:class:`Drop`, :class:`Cut`) and rendered in the format of the route that was hit, so one test script runs
against every provider. Under load, a ``responder`` answers from the request itself (what the
conversation so far asks for), so any number of concurrent conversations get consistent replies;
queued scripts still come first (how a test injects faults mid-load). Every request is recorded (:attr:`LLMServer.requests`) for assertions on
the wire mapping.

Prompt caching follows each provider's documented rules (:mod:`tests.servers.llm_cache`): the
Anthropic breakpoint limit is always enforced; with ``LLMServer(caching=True)`` the reported
usage (prompt, cached and cache-write tokens) is computed from the request instead of scripted.

Run ``python -m tests.servers.llm`` to serve in a separate process (used by the benchmarks): it
prints the port on stdout and answers each chat turn with a tool call, then a text answer.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import cycle
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .llm_cache import CacheUsage, PromptCache, check_breakpoints
from .llm_responses import ResponsesAPI
from .llm_rules import (
    Rejected,
    Signer,
    anthropic_thinking_on,
    check_anthropic,
    check_ollama,
    check_openai_chat,
    ollama_thinks,
)
from .llm_scripts import Cut, Drop, Fail, Hang, Recorded, Reply, Script, StreamError
from .llm_scripts import args_text as _args_text
from .llm_scripts import pieces as _pieces

__all__ = ["Cut", "Drop", "Fail", "Hang", "LLMServer", "Recorded", "Reply", "StreamError"]

Responder = Callable[[str, dict[str, Any]], Script]

SUMMARY_MARK = "Summarise the conversation below"
"""The start of the summary prompt (``aiops_core.summary.DEFAULT_PROMPT``): how :func:`main`
tells a summary request from a turn's."""
"""``responder(route, body)`` -> the answer to a request (route: openai, responses, anthropic,
ollama)."""


# ------------------------------------------------------------------------------ renderers
def _openai(reply: Reply, model: str, reasoning: bool = False) -> dict[str, Any]:
    calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": name, "arguments": _args_text(args)},
        }
        for i, (name, args) in enumerate(reply.tool_calls)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reasoning and reply.thinking:
        message["reasoning_content"] = reply.thinking
    if calls:
        message["tool_calls"] = calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "system_fingerprint": "fp_test",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": reply.finish or ("tool_calls" if calls else "stop"),
            }
        ],
        "usage": _openai_usage(reply),
    }


def _openai_usage(reply: Reply) -> dict[str, Any]:
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": {"cached_tokens": reply.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
    }


def _openai_sse(reply: Reply, model: str, include_usage: bool, reasoning: bool = False) -> bytes:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000}
    base |= {"model": model, "system_fingerprint": "fp_test"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        delta = {"role": "assistant", **delta}
        body = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(body)}\n\n"

    out = [chunk({"content": ""})]
    if reasoning and reply.thinking:
        out += [chunk({"reasoning_content": p}) for p in _pieces(reply.thinking, reply.chunk)]
    out += [chunk({"content": p}) for p in _pieces(reply.text, reply.chunk) if p]
    for i, (name, args) in enumerate(reply.tool_calls):
        head = {"index": i, "id": f"call_{i}", "type": "function"}
        out.append(chunk({"tool_calls": [{**head, "function": {"name": name, "arguments": ""}}]}))
        for piece in _pieces(_args_text(args), reply.chunk):
            out.append(chunk({"tool_calls": [{**head, "function": {"arguments": piece}}]}))
    out.append(chunk({}, reply.finish or ("tool_calls" if reply.tool_calls else "stop")))
    if include_usage:
        out.append(
            f"data: {json.dumps({**base, 'choices': [], 'usage': _openai_usage(reply)})}\n\n"
        )
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


def _anthropic_blocks(reply: Reply, signer: Signer | None = None) -> list[dict[str, Any]]:
    """The content blocks of ``reply``; thinking blocks (signed) only when ``signer`` is given."""
    blocks: list[dict[str, Any]] = []
    if signer is not None and reply.thinking:
        text = reply.thinking
        blocks.append({"type": "thinking", "thinking": text, "signature": signer.sign(text)})
    if signer is not None and reply.redacted_thinking:
        blocks.append({"type": "redacted_thinking", "data": signer.seal({"redacted": True})})
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    for i, (name, args) in enumerate(reply.tool_calls):
        value = args if isinstance(args, dict) else {}
        blocks.append({"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": value})
    return blocks


def _anthropic_stop(reply: Reply) -> str:
    return reply.finish or ("tool_use" if reply.tool_calls else "end_turn")


def _anthropic(reply: Reply, model: str, signer: Signer | None = None) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "cache_read_input_tokens": reply.cached_tokens,
        "cache_creation_input_tokens": reply.cache_write_tokens,
    }
    if signer is not None:
        usage["output_tokens_details"] = {"thinking_tokens": reply.reasoning_tokens}
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _anthropic_blocks(reply, signer),
        "stop_reason": _anthropic_stop(reply),
        "stop_sequence": None,
        "usage": usage,
    }


def _anthropic_sse(reply: Reply, model: str, signer: Signer | None = None) -> bytes:
    def event(kind: str, data: dict[str, Any]) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

    start = _anthropic(Reply(input_tokens=reply.input_tokens, output_tokens=1), model)
    start |= {"content": [], "stop_reason": None}
    start["usage"]["cache_read_input_tokens"] = reply.cached_tokens
    start["usage"]["cache_creation_input_tokens"] = reply.cache_write_tokens
    out = [event("message_start", {"message": start})]
    for index, block in enumerate(_anthropic_blocks(reply, signer)):
        kind = block["type"]
        where = {"index": index}
        if kind == "thinking":
            empty = {"type": "thinking", "thinking": "", "signature": ""}
            out.append(event("content_block_start", {**where, "content_block": empty}))
            for piece in _pieces(block["thinking"], reply.chunk):
                delta = {"type": "thinking_delta", "thinking": piece}
                out.append(event("content_block_delta", {**where, "delta": delta}))
            delta = {"type": "signature_delta", "signature": block["signature"]}
            out.append(event("content_block_delta", {**where, "delta": delta}))
        elif kind == "redacted_thinking":
            out.append(event("content_block_start", {**where, "content_block": block}))
        elif kind == "text":
            empty = {"type": "text", "text": ""}
            out.append(event("content_block_start", {**where, "content_block": empty}))
            for piece in _pieces(block["text"], reply.chunk):
                delta = {"type": "text_delta", "text": piece}
                out.append(event("content_block_delta", {**where, "delta": delta}))
        else:
            _, args = reply.tool_calls[int(block["id"].split("_")[1])]
            empty = {**block, "input": {}}
            out.append(event("content_block_start", {**where, "content_block": empty}))
            for piece in _pieces(_args_text(args), reply.chunk):
                delta = {"type": "input_json_delta", "partial_json": piece}
                out.append(event("content_block_delta", {**where, "delta": delta}))
        out.append(event("content_block_stop", where))
    delta = {"stop_reason": _anthropic_stop(reply), "stop_sequence": None}
    usage: dict[str, Any] = {"output_tokens": reply.output_tokens}
    if signer is not None:
        usage["output_tokens_details"] = {"thinking_tokens": reply.reasoning_tokens}
    out.append(event("message_delta", {"delta": delta, "usage": usage}))
    out.append(event("message_stop", {}))
    return "".join(out).encode()


def _ollama_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {"function": {"name": name, "arguments": args if isinstance(args, dict) else {}}}
        for name, args in reply.tool_calls
    ]


def _ollama(reply: Reply, model: str, thinks: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if thinks and reply.thinking:
        message["thinking"] = reply.thinking
    if reply.tool_calls:
        message["tool_calls"] = _ollama_calls(reply)
    return {
        "model": model,
        "created_at": "2026-01-01T00:00:00Z",
        "message": message,
        "done": True,
        "done_reason": reply.finish or "stop",
        "prompt_eval_count": reply.input_tokens,
        "eval_count": reply.output_tokens,
    }


def _ollama_ndjson(reply: Reply, model: str, thinks: bool = False) -> bytes:
    def line(**message: Any) -> dict[str, Any]:
        return {
            "model": model,
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": "", **message},
            "done": False,
        }

    lines = []
    if thinks and reply.thinking:
        lines += [line(thinking=piece) for piece in _pieces(reply.thinking, reply.chunk)]
    lines += [line(content=piece) for piece in _pieces(reply.text, reply.chunk) if piece]
    if reply.tool_calls:
        lines.append(line(tool_calls=_ollama_calls(reply)))
    final = _ollama(reply, model)
    final["message"] = {"role": "assistant", "content": ""}
    lines.append(final)
    return "".join(json.dumps(item) + "\n" for item in lines).encode()


def _stream_error(route: str, item: StreamError, model: str) -> tuple[bytes, str]:
    """A stream that starts normally and then carries the provider's error event."""
    if route == "anthropic":
        head = (
            _anthropic_sse(Reply(text=item.text), model)
            .decode()
            .split("event: content_block_stop")[0]
        )
        error = {"type": "error", "error": {"type": item.kind, "message": item.message}}
        return (head + f"event: error\ndata: {json.dumps(error)}\n\n").encode(), "text/event-stream"
    if route == "ollama":
        first = {
            "model": model,
            "message": {"role": "assistant", "content": item.text},
            "done": False,
        }
        lines = [json.dumps(first), json.dumps({"error": item.message})]
        return ("\n".join(lines) + "\n").encode(), "application/x-ndjson"
    head = _openai_sse(Reply(text=item.text), model, False).decode().split("data: [DONE]")[0]
    error = {"error": {"message": item.message, "type": item.kind, "code": None}}
    return (head + f"data: {json.dumps(error)}\n\n").encode(), "text/event-stream"


def _error_body(route: str, status: int, message: str) -> dict[str, Any]:
    if route == "anthropic":
        kind = {401: "authentication_error", 429: "rate_limit_error"}.get(status, "api_error")
        if status == 400:
            kind = "invalid_request_error"
        return {"type": "error", "error": {"type": kind, "message": message}}
    if route == "ollama":
        return {"error": message}
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def _with_usage(reply: Reply, route: str, usage: CacheUsage) -> Reply:
    """``reply`` with the input usage the server computed, as the route's wire reports it."""
    if route == "anthropic":
        rest = usage.input_tokens - usage.cached_tokens - usage.cache_write_tokens
        return replace(
            reply,
            input_tokens=rest,
            cached_tokens=usage.cached_tokens,
            cache_write_tokens=usage.cache_write_tokens,
        )
    return replace(reply, input_tokens=usage.input_tokens, cached_tokens=usage.cached_tokens)


# ------------------------------------------------------------------------------ server
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no delayed-ACK stalls
    server: _Server
    cut: float | None = None
    """While answering a :class:`Cut`: the fraction of the body sent before the reset."""

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.cut is None:
            self.wfile.write(body)
            return
        self.wfile.write(body[: int(len(body) * self.cut)])
        self.wfile.flush()
        self.close_connection = True
        # SO_LINGER with a zero timeout: close() sends a TCP reset, as a crashed peer does.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.server.owner.record(self, None)
        if path == "/api/tags":
            body = {"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 1}]}
        elif path == "/api/version":
            body = {"version": "0.12.0"}
        else:
            self._send(404, b'{"error":"not found"}', "application/json", {})
            return
        self._send(200, json.dumps(body).encode(), "application/json", {})

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.server.owner.record(self, body)
        path = parts.path
        if path.endswith("/chat/completions"):
            route = "openai"
        elif path.endswith("/responses"):
            route = "responses"
        elif path.endswith("/v1/messages"):
            route = "anthropic"
        elif path == "/api/chat":
            route = "ollama"
        else:
            self._send(404, b'{"error":"no such route"}', "application/json", {})
            return
        body = body if isinstance(body, dict) else {}
        owner = self.server.owner
        try:
            self._check(route, body)
            usage = owner.cache_usage(route, body)
        except Rejected as err:
            owner.rejected.append((err.status, err.message))
            payload = json.dumps(_error_body(route, err.status, err.message)).encode()
            id_header = "request-id" if route == "anthropic" else "x-request-id"
            self._send(err.status, payload, "application/json", {id_header: "req-rejected-1"})
            return
        self._answer(route, body, usage)

    def _check(self, route: str, body: dict[str, Any]) -> None:
        owner = self.server.owner
        headers = {k.lower(): v for k, v in self.headers.items()}
        if route == "anthropic":
            check_anthropic(body, headers, owner.signer)
        elif route == "openai":
            check_openai_chat(body)
        elif route == "responses":
            owner.responses.check(body)
        else:
            check_ollama(body)

    def _answer(self, route: str, body: dict[str, Any], usage: CacheUsage | None) -> None:
        owner = self.server.owner
        item = owner.next_script(route, body)
        self.cut = None
        if isinstance(item, Cut):
            self.cut, item = item.fraction, item.then or owner.respond(route, body)
        if isinstance(item, Hang):
            time.sleep(item.seconds)
            item = item.then
        if isinstance(item, Reply) and usage is not None:
            item = _with_usage(item, route, usage)
        if isinstance(item, Drop):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        id_header = "request-id" if route == "anthropic" else "x-request-id"
        if isinstance(item, Fail):
            headers = {id_header: item.request_id, **item.headers}
            payload = json.dumps(_error_body(route, item.status, item.message)).encode()
            self._send(item.status, payload, "application/json", headers)
            return
        model = str(body.get("model", "unknown"))
        stream = bool(body.get("stream"))
        if isinstance(item, StreamError):
            if route == "responses":
                payload, content_type = (
                    owner.responses.render_error(item, body),
                    "text/event-stream",
                )
            else:
                payload, content_type = _stream_error(route, item, model)
            self._send(200, payload, content_type, {id_header: "req-stream-1"})
            return
        headers = {id_header: item.request_id}
        sse, ndjson = "text/event-stream", "application/x-ndjson"
        if route == "openai":
            reasoning = "reasoning_effort" in body  # a reasoning server (vLLM-style) shows it
            if stream:
                usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._send(200, _openai_sse(item, model, usage, reasoning), sse, headers)
            else:
                self._json(_openai(item, model, reasoning), headers)
        elif route == "responses":
            if stream:
                self._send(200, owner.responses.render_sse(item, body), sse, headers)
            else:
                self._json(owner.responses.render(item, body), headers)
        elif route == "anthropic":
            signer = owner.signer if anthropic_thinking_on(body) else None
            if stream:
                self._send(200, _anthropic_sse(item, model, signer), sse, headers)
            else:
                self._json(_anthropic(item, model, signer), headers)
        elif stream:
            self._send(200, _ollama_ndjson(item, model, ollama_thinks(body)), ndjson, {})
        else:
            self._json(_ollama(item, model, ollama_thinks(body)), {})

    def _json(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        self._send(200, json.dumps(body).encode(), "application/json", headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 1024  # hundreds of clients connecting at once (load tests)
    owner: LLMServer


class LLMServer:
    """The scriptable server. Use as a context manager or call :meth:`start` / :meth:`stop`.

    Args:
        default: replies used in turn (cycling) when the script queue is empty; without them
            an unscripted request gets HTTP 500.
        record: keep every request in :attr:`requests` (benchmarks switch it off).
        responder: answers each request from its body when the script queue is empty (before
            ``default``).
        caching: report the input usage the providers' prompt caching would (prompt, cached and
            cache-write tokens computed from the request), not the scripted numbers.
    """

    def __init__(
        self,
        default: list[Script] | None = None,
        *,
        record: bool = True,
        responder: Responder | None = None,
        caching: bool = False,
    ) -> None:
        self._queue: deque[Script] = deque()
        self._default = cycle(default) if default else None
        self.responder = responder
        self.signer = Signer()
        self.responses = ResponsesAPI(self.signer)
        self.rejected: list[tuple[int, str]] = []
        """``(status, message)`` of every request refused by a provider rule."""
        self._lock = threading.Lock()
        self._record = record
        self.caching = caching
        self.cache = PromptCache()
        self.usages: list[CacheUsage] = []
        """The computed input usage of every answered request (with ``caching``), in order."""
        self.requests: list[Recorded] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, *items: Script) -> LLMServer:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._queue.extend(items)
        return self

    def next_script(self, route: str = "openai", body: dict[str, Any] | None = None) -> Script:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            if self.responder is not None:
                return self.responder(route, body or {})
            if self._default is not None:
                return next(self._default)
        return Fail(500, "no scripted reply left")

    def respond(self, route: str, body: dict[str, Any]) -> Script:
        """The responder's (or the default script's) answer, skipping the queue."""
        if self.responder is not None:
            return self.responder(route, body)
        with self._lock:
            return next(self._default) if self._default is not None else Reply()

    def record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        if not self._record:
            return
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(Recorded(handler.command, parts.path, query, headers, body))

    def cache_usage(self, route: str, body: dict[str, Any]) -> CacheUsage | None:
        """The prompt-cache usage of a request (``None`` unless ``caching``, or for Ollama).

        The Anthropic breakpoint limit is checked either way (:class:`Rejected`).
        """
        if route == "anthropic" and not self.caching:
            check_breakpoints(body)
            return None
        if route == "anthropic":
            usage = self.cache.anthropic(body)
        elif route in ("openai", "responses") and self.caching:
            usage = self.cache.openai(body)
        else:
            return None
        with self._lock:
            self.usages.append(usage)
        return usage

    @property
    def last(self) -> Recorded:
        """The most recent request."""
        return self.requests[-1]

    def start(self) -> LLMServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """Serve a two-step agent turn forever: a tool call, then a final answer.

    Both steps carry thinking, rendered only to requests that turn reasoning on. With
    ``--caching`` the reported usage applies the providers' prompt-caching rules.
    """
    thinking = "The user asks about core-sw-01: check its status first, then answer."
    turn: list[Script] = [
        Reply(tool_calls=[("device_status", {"name": "core-sw-01"})], thinking=thinking),
        Reply(text="core-sw-01 is up.", thinking="The status says up."),
    ]
    replies = cycle(turn)

    def respond(route: str, body: dict[str, Any]) -> Script:
        # A context summary (context_policy="summarize") is answered outside the turn's cycle.
        if SUMMARY_MARK in json.dumps(body):
            return Reply(text="The user asked about core switches one by one; all were up.")
        return next(replies)

    server = LLMServer(record=False, responder=respond, caching="--caching" in sys.argv[1:]).start()
    print(server.url.rsplit(":", 1)[1], flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
