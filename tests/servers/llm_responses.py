"""The OpenAI Responses API (``POST /v1/responses``, Azure ``/openai/responses``) of the local server.

It checks a request as the real API does (unknown parameters; reasoning items must carry
encrypted content this server issued when ``store`` is false, and must be followed by the item
that followed them; a function call that came after a reasoning item needs that item; every
``function_call_output`` answers a call of the input) and answers with the real object shapes,
non-streamed or as the real stream events (``response.created`` ... ``response.completed``).
"""

from __future__ import annotations

import itertools
import json
import threading
from typing import Any

from .llm_rules import Rejected, Signer, is_reasoning_model
from .llm_scripts import Reply, StreamError, args_text, pieces

__all__ = ["ResponsesAPI"]

_PARAMETERS = {
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "temperature",
    "top_p",
    "max_output_tokens",
    "reasoning",
    "store",
    "include",
    "stream",
    "stream_options",
    "text",
    "metadata",
    "previous_response_id",
    "truncation",
    "user",
    "service_tier",
    "prompt_cache_key",
    "background",
    "top_logprobs",
}
_MESSAGE_KEYS = {"type", "role", "content", "id", "status"}
_ENCRYPTED = "reasoning.encrypted_content"


class ResponsesAPI:
    """State and rules of the Responses route (issued reasoning, stored items)."""

    def __init__(self, signer: Signer) -> None:
        self.signer = signer
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.after: dict[str, str] = {}
        """Item id -> id of the reasoning item that preceded it in its response."""
        self.stored: dict[str, str] = {}
        """Reasoning item id -> the id of its following item, for responses made with store."""

    def _id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_{next(self._ids)}"

    # -------------------------------------------------------------------------- checks
    def check(self, body: dict[str, Any]) -> None:
        """Raise :class:`Rejected` for a request the real API would refuse."""
        unknown = sorted(set(body) - _PARAMETERS)
        if unknown:
            raise Rejected(400, f"Unknown parameter: '{unknown[0]}'.")
        model = str(body.get("model", ""))
        reasoning = body.get("reasoning") or {}
        if reasoning.get("effort") is not None and not is_reasoning_model(model):
            raise Rejected(
                400, "Unsupported parameter: 'reasoning.effort' is not supported with this model."
            )
        if _ENCRYPTED in (body.get("include") or []) and not is_reasoning_model(model):
            raise Rejected(400, "Encrypted content is not supported with this model.")
        if body.get("store") is False and body.get("previous_response_id"):
            raise Rejected(400, "Previous response cannot be used when `store` is false.")
        items = body.get("input")
        if isinstance(items, str):
            return
        if not isinstance(items, list):
            raise Rejected(400, "Missing required parameter: 'input'.")
        self._check_items(items)

    def _check_items(self, items: list[Any]) -> None:
        seen: set[str] = set()
        calls: set[str] = set()
        for index, item in enumerate(items):
            kind = item.get("type", "message" if "role" in item else None)
            item_id = item.get("id")
            if kind == "reasoning":
                self._check_reasoning(item, items[index + 1 : index + 2])
            elif kind == "function_call":
                for key in ("call_id", "name", "arguments"):
                    if not isinstance(item.get(key), str):
                        raise Rejected(400, f"Missing required parameter: 'input[{index}].{key}'.")
                calls.add(item["call_id"])
                self._check_preceded(item_id, "function_call", seen)
            elif kind == "function_call_output":
                if item.get("call_id") not in calls:
                    raise Rejected(
                        400,
                        "No tool call found for function call output with call_id "
                        f"{item.get('call_id')}.",
                    )
            elif kind == "message":
                extra = sorted(set(item) - _MESSAGE_KEYS)
                if extra:
                    raise Rejected(400, f"Unknown parameter: 'input[{index}].{extra[0]}'.")
                if item.get("role") not in ("user", "system", "developer", "assistant"):
                    raise Rejected(
                        400, f"Invalid value: '{item.get('role')}' (input[{index}].role)"
                    )
                self._check_preceded(item_id, "message", seen)
            else:
                raise Rejected(
                    400,
                    f"Invalid value: '{kind}'. Supported values are: 'message', 'reasoning', "
                    "'function_call' and 'function_call_output'.",
                )
            if item_id:
                seen.add(item_id)

    def _check_reasoning(self, item: dict[str, Any], following: list[Any]) -> None:
        item_id = item.get("id")
        if not isinstance(item_id, str) or not isinstance(item.get("summary"), list):
            raise Rejected(400, "A reasoning item needs 'id' and 'summary'.")
        encrypted = item.get("encrypted_content")
        if encrypted is not None:
            sealed = self.signer.unseal(encrypted)
            if sealed is None or sealed.get("id") != item_id:
                raise Rejected(
                    400, f"The encrypted content for item {item_id} could not be verified."
                )
            expected = sealed.get("next")
        elif item_id in self.stored:
            expected = self.stored[item_id]
        else:
            raise Rejected(
                404,
                f"Item with id '{item_id}' not found. Items are not persisted when `store` is set "
                "to false. Try again with `store` set to true, or remove this item from your "
                "input.",
            )
        if expected and (not following or following[0].get("id") != expected):
            raise Rejected(
                400,
                f"Item '{item_id}' of type 'reasoning' was provided without its required "
                "following item.",
            )

    def _check_preceded(self, item_id: Any, kind: str, seen: set[str]) -> None:
        needed = self.after.get(item_id) if isinstance(item_id, str) else None
        if needed is not None and needed not in seen:
            raise Rejected(
                400,
                f"Item '{item_id}' of type '{kind}' was provided without its required "
                f"'reasoning' item: '{needed}'.",
            )

    # -------------------------------------------------------------------------- answers
    def _items(self, reply: Reply, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The output items of ``reply`` for this request (ids issued and remembered)."""
        model = str(body.get("model", ""))
        items: list[dict[str, Any]] = []
        if reply.text:
            text = {"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}
            items.append(
                {
                    "type": "message",
                    "id": self._id("msg"),
                    "status": "completed",
                    "role": "assistant",
                    "content": [text],
                }
            )
        for name, args in reply.tool_calls:
            items.append(
                {
                    "type": "function_call",
                    "id": self._id("fc"),
                    "call_id": self._id("call"),
                    "name": name,
                    "arguments": args_text(args),
                    "status": "completed",
                }
            )
        if not is_reasoning_model(model):
            return items
        reasoning_id = self._id("rs")
        item: dict[str, Any] = {"type": "reasoning", "id": reasoning_id, "summary": []}
        wanted = (body.get("reasoning") or {}).get("summary")
        if reply.thinking and wanted:
            item["summary"] = [{"type": "summary_text", "text": reply.thinking}]
        if reply.thinking and "gpt-oss" in model:
            item["content"] = [{"type": "reasoning_text", "text": reply.thinking}]
        following = items[0]["id"] if items else None
        if _ENCRYPTED in (body.get("include") or []):
            item["encrypted_content"] = self.signer.seal({"id": reasoning_id, "next": following})
        with self._lock:
            for later in items:
                self.after[later["id"]] = reasoning_id
            if body.get("store", True):
                self.stored[reasoning_id] = following or ""
        return [item, *items]

    def _response(
        self, reply: Reply, body: dict[str, Any], output: list[dict[str, Any]], status: str
    ) -> dict[str, Any]:
        incomplete = None
        if status == "completed" and reply.finish == "length":
            status, incomplete = "incomplete", {"reason": "max_output_tokens"}
        return {
            "id": self._id("resp"),
            "object": "response",
            "created_at": 1700000000,
            "status": status,
            "model": body.get("model", "unknown"),
            "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools", []),
            "store": body.get("store", True),
            "reasoning": body.get("reasoning"),
            "text": body.get("text", {"format": {"type": "text"}}),
            "error": None,
            "incomplete_details": incomplete,
            "instructions": body.get("instructions"),
            "metadata": {},
            "temperature": body.get("temperature", 1.0),
            "top_p": body.get("top_p", 1.0),
            "usage": _usage(reply) if status != "in_progress" else None,
        }

    def render(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        """The non-streamed answer."""
        return self._response(reply, body, self._items(reply, body), "completed")

    def render_sse(self, reply: Reply, body: dict[str, Any]) -> bytes:
        """The streamed answer: the real event types, in the real order."""
        events = _Events()
        items = self._items(reply, body)
        start = self._response(reply, body, [], "in_progress")
        events.add("response.created", response=start)
        events.add("response.in_progress", response=start)
        for index, item in enumerate(items):
            _stream_item(events, index, item, reply.chunk)
        final = {**start, **self._response(reply, body, items, "completed"), "id": start["id"]}
        events.add("response.completed", response=final)
        return events.bytes()

    def render_error(self, item: StreamError, body: dict[str, Any]) -> bytes:
        """A stream that starts with text, then carries an ``error`` event."""
        events = _Events()
        start = self._response(Reply(), body, [], "in_progress")
        events.add("response.created", response=start)
        message = {"type": "message", "id": self._id("msg"), "role": "assistant", "content": []}
        message["status"] = "in_progress"
        events.add("response.output_item.added", output_index=0, item=message)
        events.add(
            "response.output_text.delta",
            item_id=message["id"],
            output_index=0,
            content_index=0,
            delta=item.text,
            logprobs=[],
        )
        events.add("error", code=item.kind, message=item.message, param=None)
        return events.bytes()


def _usage(reply: Reply) -> dict[str, Any]:
    return {
        "input_tokens": reply.input_tokens,
        "input_tokens_details": {"cached_tokens": reply.cached_tokens},
        "output_tokens": reply.output_tokens,
        "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
        "total_tokens": reply.input_tokens + reply.output_tokens,
    }


class _Events:
    """Server-sent events with the ``sequence_number`` every Responses event carries."""

    def __init__(self) -> None:
        self._out: list[str] = []

    def add(self, kind: str, **data: Any) -> None:
        body = {"type": kind, "sequence_number": len(self._out), **data}
        self._out.append(f"event: {kind}\ndata: {json.dumps(body)}\n\n")

    def bytes(self) -> bytes:
        return "".join(self._out).encode()


def _stream_item(events: _Events, index: int, item: dict[str, Any], size: int) -> None:
    kind, item_id = item["type"], item["id"]
    where = {"item_id": item_id, "output_index": index}
    if kind == "reasoning":
        head = {"type": "reasoning", "id": item_id, "summary": []}
        events.add("response.output_item.added", output_index=index, item=head)
        for number, part in enumerate(item["summary"]):
            empty = {"type": "summary_text", "text": ""}
            events.add(
                "response.reasoning_summary_part.added", **where, summary_index=number, part=empty
            )
            for piece in pieces(part["text"], size):
                events.add(
                    "response.reasoning_summary_text.delta",
                    **where,
                    summary_index=number,
                    delta=piece,
                )
            events.add(
                "response.reasoning_summary_text.done",
                **where,
                summary_index=number,
                text=part["text"],
            )
            events.add(
                "response.reasoning_summary_part.done", **where, summary_index=number, part=part
            )
        for number, part in enumerate(item.get("content") or []):
            for piece in pieces(part["text"], size):
                events.add(
                    "response.reasoning_text.delta", **where, content_index=number, delta=piece
                )
            events.add(
                "response.reasoning_text.done", **where, content_index=number, text=part["text"]
            )
    elif kind == "message":
        head = {**item, "status": "in_progress", "content": []}
        events.add("response.output_item.added", output_index=index, item=head)
        part = item["content"][0]
        empty = {**part, "text": ""}
        events.add("response.content_part.added", **where, content_index=0, part=empty)
        for piece in pieces(part["text"], size):
            events.add(
                "response.output_text.delta", **where, content_index=0, delta=piece, logprobs=[]
            )
        events.add(
            "response.output_text.done", **where, content_index=0, text=part["text"], logprobs=[]
        )
        events.add("response.content_part.done", **where, content_index=0, part=part)
    else:
        head = {**item, "arguments": "", "status": "in_progress"}
        events.add("response.output_item.added", output_index=index, item=head)
        for piece in pieces(item["arguments"], size):
            events.add("response.function_call_arguments.delta", **where, delta=piece)
        events.add("response.function_call_arguments.done", **where, arguments=item["arguments"])
    events.add("response.output_item.done", output_index=index, item=item)
