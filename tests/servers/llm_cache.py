"""Prompt caching as the providers document it, for the local LLM server.

Token counts are estimated (about four characters a token) over the request cut into blocks in
the order the providers cache them; prefixes are compared by the exact bytes received, so a
client that reorders tools or JSON keys between turns misses the cache as it would for real.

- **Anthropic** (Messages API): only prefixes ending at a ``cache_control`` breakpoint are
  written (tools, then system, then messages; at most 4 breakpoints, more is a 400); a prefix
  shorter than the model's minimum (1024 tokens, 2048 for Haiku) is not cached; each breakpoint
  also looks back up to 20 blocks for an earlier cached prefix. A top-level ``cache_control``
  (automatic caching) puts one more breakpoint on the last block. Usage reports
  ``cache_read_input_tokens``, ``cache_creation_input_tokens`` and the rest as ``input_tokens``.
- **OpenAI** (Chat Completions and Responses): every prompt of at least 1024 tokens is cached
  automatically, per ``prompt_cache_key`` (and model); a later prompt reads the longest cached
  prefix, counted in 128-token increments from 1024. Usage reports ``cached_tokens`` as a part
  of the prompt tokens.

:data:`BILLING` has the documented price factors of cached input, so a test or a benchmark can
turn reported usage into billed input tokens (:func:`billed_input`).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from dataclasses import dataclass
from typing import Any

from .llm_rules import Rejected

__all__ = ["BILLING", "CacheUsage", "PromptCache", "billed_input", "check_breakpoints"]

ANTHROPIC_MAX_BREAKPOINTS = 4
ANTHROPIC_LOOKBACK = 20
OPENAI_MIN_TOKENS = 1024
OPENAI_INCREMENT = 128

BILLING = {
    "anthropic": {"read": 0.1, "write": 1.25},
    "openai": {"read": 0.1, "write": 1.0},  # the GPT-5 family: cached input at a tenth
}
"""Price factors of cached input tokens (reads) and cache writes, relative to plain input."""


@dataclass(frozen=True)
class CacheUsage:
    """What the server reports for one request's input.

    ``input_tokens`` is the whole prompt (OpenAI's ``prompt_tokens``); Anthropic reports
    ``input_tokens - cached_tokens - cache_write_tokens`` as its ``input_tokens``.
    """

    input_tokens: int
    cached_tokens: int = 0
    cache_write_tokens: int = 0


def billed_input(provider: str, input_tokens: int, cached: int, written: int = 0) -> float:
    """Input tokens a provider bills, from usage where ``input_tokens`` counts the whole prompt."""
    rates = BILLING[provider]
    plain = input_tokens - cached - written
    return plain + cached * rates["read"] + written * rates["write"]


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _strip(block: Any) -> tuple[str, bool]:
    """A block's bytes without its ``cache_control`` marker, and whether it had one."""
    if isinstance(block, dict) and "cache_control" in block:
        return _dumps({k: v for k, v in block.items() if k != "cache_control"}), True
    return _dumps(block), False


class _Prefixes:
    """Running hashes and token counts of a prompt's block prefixes."""

    def __init__(self) -> None:
        self.hashes: list[str] = []
        self.tokens: list[int] = []
        self.marks: list[int] = []  # block indexes that carry a breakpoint
        self._hash = hashlib.sha256()
        self._total = 0

    def add(self, text: str, mark: bool = False) -> None:
        self._hash.update(text.encode())
        self._hash.update(b"\x00")
        self._total += _tokens(text)
        self.hashes.append(self._hash.copy().hexdigest())
        self.tokens.append(self._total)
        if mark:
            self.marks.append(len(self.hashes) - 1)

    @property
    def total(self) -> int:
        return self._total


def _anthropic_prefixes(body: dict[str, Any]) -> _Prefixes:
    out = _Prefixes()
    for tool in body.get("tools") or ():
        out.add(*_strip(tool))
    system = body.get("system")
    if isinstance(system, str):
        out.add(_dumps(system))
    elif isinstance(system, list):
        for block in system:
            out.add(*_strip(block))
    for message in body.get("messages") or ():
        content = message.get("content")
        out.add(_dumps(message.get("role")))
        if isinstance(content, str):
            out.add(_dumps(content))
            continue
        for block in content or ():
            out.add(*_strip(block))
    last = len(out.hashes) - 1
    if body.get("cache_control") and last >= 0 and last not in out.marks:
        out.marks.append(last)  # automatic caching: a breakpoint on the last block
    return out


def _openai_prefixes(body: dict[str, Any]) -> _Prefixes:
    out = _Prefixes()
    for tool in body.get("tools") or ():
        out.add(_dumps(tool))
    for key in ("response_format", "text", "instructions"):
        if body.get(key) is not None:
            out.add(_dumps(body[key]))
    items = body.get("messages") if "messages" in body else body.get("input")
    if isinstance(items, str):
        out.add(_dumps(items))
    else:
        for item in items or ():
            out.add(_dumps(item))
    return out


def _marked(blocks: Any) -> int:
    if not isinstance(blocks, list):
        return 0
    return sum(1 for block in blocks if isinstance(block, dict) and "cache_control" in block)


def check_breakpoints(body: dict[str, Any]) -> int:
    """The number of ``cache_control`` breakpoints; :class:`Rejected` above the API's limit."""
    count = _marked(body.get("tools")) + _marked(body.get("system"))
    count += sum(_marked(message.get("content")) for message in body.get("messages") or ())
    count += 1 if body.get("cache_control") else 0  # automatic caching takes a slot
    if count > ANTHROPIC_MAX_BREAKPOINTS:
        raise Rejected(
            400,
            f"A maximum of {ANTHROPIC_MAX_BREAKPOINTS} blocks with cache_control may be "
            f"provided. Found {count}.",
        )
    return count


class PromptCache:
    """The server-side prompt caches of both provider families (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._anthropic: dict[str, set[str]] = {}
        self._openai: dict[tuple[str, str], set[str]] = {}

    def anthropic(self, body: dict[str, Any]) -> CacheUsage:
        """Apply the Messages API's rules to one request (raises :class:`Rejected` like the API)."""
        check_breakpoints(body)
        prefixes = _anthropic_prefixes(body)
        marks = prefixes.marks
        model = str(body.get("model", ""))
        minimum = 2048 if "haiku" in model else 1024
        with self._lock:
            cache = self._anthropic.setdefault(model, set())
            read = 0
            for mark in marks:
                for index in range(mark, max(-1, mark - ANTHROPIC_LOOKBACK - 1), -1):
                    if prefixes.hashes[index] in cache:
                        read = max(read, prefixes.tokens[index])
                        break
            written = 0
            for mark in marks:
                size = prefixes.tokens[mark]
                if size >= minimum and prefixes.hashes[mark] not in cache:
                    cache.add(prefixes.hashes[mark])
                    written = max(written, size - read)
        return CacheUsage(prefixes.total, read, max(0, written))

    def openai(self, body: dict[str, Any]) -> CacheUsage:
        """Apply OpenAI's automatic prefix caching to one Chat Completions or Responses request."""
        prefixes = _openai_prefixes(body)
        key = (str(body.get("model", "")), str(body.get("prompt_cache_key") or ""))
        with self._lock:
            cache = self._openai.setdefault(key, set())
            # A running hash names its whole prefix: the last one cached is the longest match.
            matched = next(
                (
                    prefixes.tokens[index]
                    for index in range(len(prefixes.hashes) - 1, -1, -1)
                    if prefixes.hashes[index] in cache
                ),
                0,
            )
            for index, digest in enumerate(prefixes.hashes):
                if prefixes.tokens[index] >= OPENAI_MIN_TOKENS:
                    cache.add(digest)
        if matched < OPENAI_MIN_TOKENS:
            return CacheUsage(prefixes.total)
        cached = OPENAI_MIN_TOKENS + (matched - OPENAI_MIN_TOKENS) // OPENAI_INCREMENT * (
            OPENAI_INCREMENT
        )
        return CacheUsage(prefixes.total, cached)
