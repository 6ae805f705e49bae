"""The lean transport of the ``openai`` handler: the OpenAI APIs over a bare ``httpx2`` client.

``get_chat_model("openai:gpt-4o-mini", transport="lean")`` skips the ``openai`` SDK on the request
path: the body comes from the shared wire mapping (:func:`build_request`, or
:func:`build_responses_request` with ``api="responses"``) and one ``json.dumps``, the headers are
fixed, the answer is parsed with one ``json.loads`` and read as plain dicts, and streams go
through a small incremental server-sent-events parser. Same wire bodies, same typed errors, a
fraction of the client CPU per request. ``httpx2`` is imported on first use.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, cast

from ..errors import ProviderError, RateLimitError, ServerError
from ..messages import AssistantMessage, ThinkingPart, Usage
from ._errors import error_for_status
from ._model import SDKChatModel
from ._openai_responses import ResponsesStreamReader, build_responses_request, read_responses
from ._openai_wire import (
    OpenAIConfig,
    arguments_text,
    build_request,
    read_usage,
    reasoning_text,
)
from .base import (
    ModelRequest,
    ModelResponse,
    ModelStreamEvent,
    ResponseDone,
    StreamAccumulator,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    parse_arguments,
)

if TYPE_CHECKING:
    import httpx2

__all__ = ["OpenAILeanChatModel", "iter_sse_data", "read_completion"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"


async def iter_sse_data(chunks: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """The ``data`` of each server-sent event in a byte stream (comments and other fields dropped).

    Lines end with ``\\n``, ``\\r\\n`` or ``\\r``; a blank line ends an event; several ``data:``
    lines of one event are joined with ``\\n``. An event left open at the end is still delivered.
    """
    buffer = b""
    data: list[str] = []
    async for chunk in chunks:
        buffer += chunk
        if b"\r" in buffer:
            # Keep a final \r as it is: its \n may be the next chunk's first byte.
            tail = b"\r" if buffer.endswith(b"\r") else b""
            body = buffer[:-1] if tail else buffer
            buffer = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") + tail
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if _add_line(line, data):
                yield "\n".join(data)
                data.clear()
    for line in buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        if _add_line(line, data):
            yield "\n".join(data)
            data.clear()
    if data:
        yield "\n".join(data)


def _add_line(line: bytes, data: list[str]) -> bool:
    """Take one SSE line into ``data``; ``True`` when it ends an event that has data."""
    if not line:
        return bool(data)
    if line.startswith(b"data:"):
        value = line[5:]
        # Invalid UTF-8 from a server becomes U+FFFD (as the SDKs decode), never an exception.
        data.append((value[1:] if value.startswith(b" ") else value).decode(errors="replace"))
    return False


def read_completion(
    data: Mapping[str, Any],
    request_id: str | None,
    *,
    provider: str = "openai",
    model: str | None = None,
) -> ModelResponse:
    """A :class:`ModelResponse` from a decoded Chat Completions answer."""
    choice = data["choices"][0]
    message = choice["message"]
    calls = [
        parse_arguments(
            call["id"], call["function"]["name"], arguments_text(call["function"]["arguments"])
        )
        for call in message.get("tool_calls") or ()
    ]
    reasoning = reasoning_text(message)
    thinking = [ThinkingPart(text=reasoning, provider=provider, model=model)] if reasoning else []
    return ModelResponse(
        message=AssistantMessage(
            content=message.get("content") or "", tool_calls=calls, thinking=thinking
        ),
        usage=read_usage(data.get("usage")),
        finish_reason=choice.get("finish_reason"),
        model=data.get("model"),
        request_id=request_id,
    )


class OpenAILeanChatModel(SDKChatModel["httpx2.AsyncClient"]):
    """An OpenAI (or OpenAI-compatible) chat model that talks HTTP itself, without the SDK.

    The client is an ``httpx2.AsyncClient``: the injected ``http_client`` (left open) or one per
    event loop, closed with its loop. ``max_retries`` must stay 0 (retry with the retry middleware).
    """

    provider: ClassVar[str] = "openai"
    max_tokens_key: ClassVar[str] = "max_completion_tokens"

    def __init__(
        self,
        model: str,
        config: OpenAIConfig,
        *,
        secret: str | None = None,
        http_client: Any = None,
    ) -> None:
        base_url = config.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        self._responses = config.api == "responses"
        path = "/responses" if self._responses else "/chat/completions"
        self._url = base_url.rstrip("/") + path
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if config.organization:
            headers["OpenAI-Organization"] = config.organization
        if config.project:
            headers["OpenAI-Project"] = config.project
        headers.update(config.extra_headers)
        self._headers = headers  # without the key: it is added per request, never stored in clear
        self._timeout: Any = None
        super().__init__(model, config, secret=secret, http_client=http_client)

    # -------------------------------------------------------------------- client lifecycle
    def _new_client(self) -> httpx2.AsyncClient:
        import httpx2

        if self._timeout is None:
            self._timeout = httpx2.Timeout(self.config.timeout)
        if self._http_client is not None:
            return cast("httpx2.AsyncClient", self._http_client)
        return httpx2.AsyncClient(
            timeout=self._timeout,
            limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=100),
        )

    async def _close_client(self, client: httpx2.AsyncClient) -> None:
        await client.aclose()

    # -------------------------------------------------------------------- requests
    def _request_headers(self) -> dict[str, str]:
        secret = self._secret
        if secret is None:
            return self._headers
        return {**self._headers, "Authorization": f"Bearer {secret}"}

    def _body(self, request: ModelRequest, *, stream: bool) -> bytes:
        settings = self._settings(request)
        if self._responses:
            config = cast(OpenAIConfig, self.config)
            body = build_responses_request(
                request, settings, provider=self.provider, model=self.model, store=config.store
            )
        else:
            body = build_request(request, settings, max_tokens_key=self.max_tokens_key)
            body["model"] = self.model
        extra = body.pop("extra_body", None)
        if stream:
            body["stream"] = True
            if not self._responses:
                body["stream_options"] = {"include_usage": True}
        if extra:
            body.update(extra)
        return json.dumps(body, separators=(",", ":")).encode()

    def _status_error(self, status: int, content: bytes, headers: Any) -> ProviderError:
        try:
            decoded: Any = json.loads(content)
        except ValueError:
            decoded = None
        message = _error_message(decoded) or content.decode(errors="replace")[:500]
        return error_for_status(
            status,
            self._scrub(message or f"HTTP {status}"),
            provider=self.provider,
            request_id=headers.get("x-request-id"),
            headers=headers,
        )

    def _decode(self, content: bytes | str, request_id: str | None) -> Any:
        try:
            return json.loads(content)
        except ValueError as err:
            raise ServerError(
                "the provider's answer is not valid JSON",
                provider=self.provider,
                request_id=request_id,
            ) from err

    async def _complete(self, client: httpx2.AsyncClient, request: ModelRequest) -> ModelResponse:
        response = await client.post(
            self._url,
            content=self._body(request, stream=False),
            headers=self._request_headers(),
            timeout=self._timeout,
        )
        headers = response.headers
        if response.status_code >= 400:
            raise self._status_error(response.status_code, response.content, headers)
        request_id = headers.get("x-request-id")
        data = self._decode(response.content, request_id)
        if isinstance(data, dict) and data.get("error") and not data.get("choices"):
            raise self._reported_error(data["error"], request_id)  # an error sent with 200 OK
        try:
            if self._responses:
                return read_responses(data, request_id, provider=self.provider, model=self.model)
            return read_completion(data, request_id, provider=self.provider, model=self.model)
        except (KeyError, IndexError, TypeError, AttributeError) as err:
            raise ServerError(
                f"unexpected answer shape ({type(err).__name__}: {err})",
                provider=self.provider,
                request_id=request_id,
            ) from err

    async def _stream(
        self, client: httpx2.AsyncClient, request: ModelRequest
    ) -> AsyncIterator[ModelStreamEvent]:
        async with client.stream(
            "POST",
            self._url,
            content=self._body(request, stream=True),
            headers=self._request_headers(),
            timeout=self._timeout,
        ) as response:
            headers = response.headers
            if response.status_code >= 400:
                raise self._status_error(response.status_code, await response.aread(), headers)
            request_id = headers.get("x-request-id")
            async for event in self._events(response.aiter_bytes(), request_id):
                yield event

    async def _events(
        self, chunks: AsyncIterable[bytes], request_id: str | None
    ) -> AsyncIterator[ModelStreamEvent]:
        if self._responses:
            async for event in self._response_events(chunks, request_id):
                yield event
            return
        acc = StreamAccumulator(self.provider, self.model)
        usage: Usage | None = None
        finish: str | None = None
        model: str | None = None
        async for data in iter_sse_data(chunks):
            if data.startswith("[DONE]"):
                break
            chunk = self._decode(data, request_id)
            if not isinstance(chunk, dict):
                continue
            if chunk.get("error"):
                raise self._reported_error(chunk["error"], request_id)
            model = chunk.get("model") or model
            if chunk.get("usage"):
                usage = read_usage(chunk["usage"])
            for choice in chunk.get("choices") or ():
                delta = choice.get("delta")
                if delta:
                    reasoning = reasoning_text(delta)
                    if reasoning:
                        thinking_event = ThinkingDelta(reasoning)
                        acc.add(thinking_event)
                        yield thinking_event
                    text = delta.get("content")
                    if text:
                        text_event = TextDelta(text)
                        acc.add(text_event)
                        yield text_event
                    for call in delta.get("tool_calls") or ():
                        fn = call.get("function") or {}
                        call_event = ToolCallDelta(
                            call.get("index") or 0,
                            call.get("id") or None,
                            fn.get("name") or None,
                            arguments_text(fn.get("arguments")),
                        )
                        acc.add(call_event)
                        yield call_event
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
        yield ResponseDone(
            acc.response(
                usage=usage or Usage(requests=1),
                finish_reason=finish,
                model=model,
                request_id=request_id,
            )
        )

    async def _response_events(
        self, chunks: AsyncIterable[bytes], request_id: str | None
    ) -> AsyncIterator[ModelStreamEvent]:
        reader = ResponsesStreamReader(self.provider, self.model, request_id)
        async for data in iter_sse_data(chunks):
            if data.startswith("[DONE]"):
                break
            event = self._decode(data, request_id)
            if isinstance(event, dict):
                for out in reader.read(event):
                    yield out
        yield ResponseDone(reader.response())

    def _reported_error(self, error: Any, request_id: str | None) -> ProviderError:
        """An error in a successful answer (a stream's error event): the provider's side failed."""
        message = self._scrub(_error_message({"error": error}) or "error event in the stream")
        kind = error.get("type") if isinstance(error, Mapping) else None
        if kind == "rate_limit_error":
            return RateLimitError(message, provider=self.provider, request_id=request_id)
        return ServerError(message, provider=self.provider, request_id=request_id)


def _error_message(body: Any) -> str | None:
    """The message of an OpenAI-style error body (``{"error": {"message": ...}}`` and variants)."""
    if not isinstance(body, Mapping):
        return body if isinstance(body, str) and body else None
    inner = body.get("error", body)
    if isinstance(inner, str):
        return inner or None
    if isinstance(inner, Mapping):
        message = inner.get("message")
        return str(message) if message else None
    return None
