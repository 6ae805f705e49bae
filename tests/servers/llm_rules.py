"""The request rules the local LLM server enforces, as the real APIs do.

Each ``check_*`` function raises :class:`Rejected` with the status and the message the real
API answers with (messages copied from the providers' error answers). Thinking is signed by a
per-server :class:`Signer`, so a block whose text or signature changed, or one that another
server (another provider) produced, fails verification just as it would at the provider.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from typing import Any

__all__ = [
    "INTERLEAVED_BETA",
    "Rejected",
    "Signer",
    "anthropic_thinking_on",
    "check_anthropic",
    "check_ollama",
    "check_openai_chat",
    "is_reasoning_model",
    "ollama_thinks",
]

INTERLEAVED_BETA = "interleaved-thinking-2025-05-14"
_REASONING = ("o1", "o3", "o4", "gpt-5", "gpt-oss", "reasoner")
_OLLAMA_THINKING = ("qwen3", "deepseek-r1", "gpt-oss", "magistral")
_CHAT_ASSISTANT_KEYS = {"role", "content", "tool_calls", "name", "refusal", "audio"}


class Rejected(Exception):
    """A request the provider would refuse: HTTP ``status`` with ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Signer:
    """Signs and seals what the server hands out, so that it can check what comes back."""

    def __init__(self) -> None:
        self._key = os.urandom(32)

    def sign(self, text: str) -> str:
        """A signature over ``text`` (an Anthropic thinking block's ``signature``)."""
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.b64encode(b"sig1" + digest).decode()

    def verify(self, text: Any, signature: Any) -> bool:
        return (
            isinstance(text, str)
            and isinstance(signature, str)
            and hmac.compare_digest(signature, self.sign(text))
        )

    def seal(self, payload: dict[str, Any]) -> str:
        """Opaque content only this server can open (redacted thinking, encrypted reasoning)."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        tag = hmac.new(self._key, body, hashlib.sha256).digest()[:16]
        return base64.b64encode(tag + body).decode()

    def unseal(self, token: Any) -> dict[str, Any] | None:
        """What :meth:`seal` sealed, or ``None`` when ``token`` was not sealed by this server."""
        if not isinstance(token, str):
            return None
        try:
            raw = base64.b64decode(token, validate=True)
        except ValueError:
            return None
        tag, body = raw[:16], raw[16:]
        if not hmac.compare_digest(tag, hmac.new(self._key, body, hashlib.sha256).digest()[:16]):
            return None
        value = json.loads(body)
        return value if isinstance(value, dict) else None


def is_reasoning_model(name: str) -> bool:
    """OpenAI reasoning models (and Azure deployments named after them)."""
    name = name.lower()
    return any(marker in name for marker in _REASONING)


# ------------------------------------------------------------------------------ Anthropic
def anthropic_thinking_on(body: dict[str, Any]) -> bool:
    """The request lets Claude think (``enabled`` or ``adaptive``)."""
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


def _check_thinking_config(body: dict[str, Any], headers: dict[str, str]) -> None:
    thinking = body.get("thinking")
    if thinking is None:
        return
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind not in ("enabled", "adaptive", "disabled", "between_tools"):
        raise Rejected(400, "thinking.type: Input should be 'enabled', 'adaptive' or 'disabled'")
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024:
            raise Rejected(
                400, "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
            )
        interleaved = INTERLEAVED_BETA in headers.get("anthropic-beta", "")
        if budget >= int(body.get("max_tokens", 0)) and not interleaved:
            raise Rejected(
                400,
                "`max_tokens` must be greater than `thinking.budget_tokens`. "
                "Please consult our documentation at https://docs.claude.com/en/docs/"
                "build-with-claude/extended-thinking#max-tokens-and-context-window-size",
            )
    if kind in ("enabled", "adaptive"):
        if body.get("temperature", 1) != 1:
            raise Rejected(
                400,
                "`temperature` may only be set to 1 when thinking is enabled or in "
                "adaptive mode. Please consult our documentation at https://docs.claude"
                ".com/en/docs/build-with-claude/extended-thinking#feature-compatibility",
            )
        if body.get("top_p", 1) < 0.95:
            raise Rejected(
                400,
                "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.",
            )
        choice = body.get("tool_choice") or {}
        if choice.get("type") in ("any", "tool"):
            raise Rejected(400, "Thinking may not be enabled when tool_choice forces tool use.")


def _check_thinking_blocks(messages: list[Any], signer: Signer) -> None:
    for i, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for j, block in enumerate(content):
            kind = block.get("type")
            if kind not in ("thinking", "redacted_thinking"):
                continue
            where = f"messages.{i}.content.{j}"
            if message.get("role") != "assistant":
                raise Rejected(400, f"{where}: thinking blocks may only appear in assistant turns")
            if kind == "thinking" and not signer.verify(
                block.get("thinking"), block.get("signature")
            ):
                raise Rejected(400, f"{where}: Invalid `signature` in `thinking` block")
            if kind == "redacted_thinking" and signer.unseal(block.get("data")) is None:
                raise Rejected(400, f"{where}: Invalid `data` in `redacted_thinking` block")


def _check_tool_turn(messages: list[Any]) -> None:
    """With thinking enabled, the turn whose tool calls are answered must start with thinking."""
    if len(messages) < 2:
        return
    last, before = messages[-1], messages[-2]
    content = last.get("content")
    answers = isinstance(content, list) and any(b.get("type") == "tool_result" for b in content)
    if last.get("role") != "user" or before.get("role") != "assistant" or not answers:
        return
    blocks = before.get("content")
    first = blocks[0] if isinstance(blocks, list) and blocks else {"type": "text"}
    if first.get("type") in ("thinking", "redacted_thinking"):
        return
    raise Rejected(
        400,
        f"messages.{len(messages) - 2}.content.0.type: Expected `thinking` or "
        f"`redacted_thinking`, but found `{first.get('type')}`. When `thinking` is enabled, a "
        "final `assistant` message must start with a thinking block (preceeding the lastmost set "
        "of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from "
        "previous turns. To avoid this requirement, disable `thinking`. Please consult our "
        "documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking",
    )


def check_anthropic(body: dict[str, Any], headers: dict[str, str], signer: Signer) -> None:
    """The Messages API's thinking rules."""
    _check_thinking_config(body, headers)
    messages = body.get("messages") or []
    _check_thinking_blocks(messages, signer)
    thinking = body.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        _check_tool_turn(messages)


# ------------------------------------------------------------------------------ OpenAI chat
def check_openai_chat(body: dict[str, Any]) -> None:
    """Chat Completions: reasoning parameters need a reasoning model; no unknown message keys."""
    model = str(body.get("model", ""))
    if "reasoning_effort" in body and not is_reasoning_model(model):
        raise Rejected(
            400, "Unsupported parameter: 'reasoning_effort' is not supported with this model."
        )
    if is_reasoning_model(model):
        if "max_tokens" in body:
            raise Rejected(
                400,
                "Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.",
            )
        if body.get("temperature", 1) != 1:
            raise Rejected(
                400,
                f"Unsupported value: 'temperature' does not support {body['temperature']} with "
                "this model. Only the default (1) value is supported.",
            )
    for i, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        unexpected = sorted(set(message) - _CHAT_ASSISTANT_KEYS)
        if unexpected:
            raise Rejected(
                400,
                f"Additional properties are not allowed ({unexpected[0]!r} was unexpected) - "
                f"'messages.{i}'",
            )


# ------------------------------------------------------------------------------ Ollama
def ollama_thinks(body: dict[str, Any]) -> bool:
    """The request turned thinking on (``think`` true or a level)."""
    think = body.get("think")
    return think is True or think in ("low", "medium", "high")


def check_ollama(body: dict[str, Any]) -> None:
    """``think`` is a boolean or a level, and only thinking models accept it."""
    if "think" not in body or body["think"] is None:
        return
    think = body["think"]
    if not isinstance(think, bool) and think not in ("low", "medium", "high"):
        raise Rejected(400, f"invalid think value: {think!r} (use true, false, low, medium, high)")
    model = str(body.get("model", ""))
    if think and not model.lower().startswith(_OLLAMA_THINKING):
        raise Rejected(400, f'"{model}" does not support thinking')
