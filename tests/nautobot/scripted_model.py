"""The ``scripted`` provider: a ``function`` model whose answer depends on the user's message.

Registered by the chat cancel tests (``provider_registry.override``) and by the browser tests'
Nautobot server (its ``nautobot_config.py``). Words in the last user message choose the answer:

- ``slow``: a long answer, one word every 30 ms (about 10 s), for the stop button;
- ``xss``: first a call of ``get_current_time`` (the real ``mcp-server-time``) whose argument is
  an XSS payload, which the server repeats in its error; then the :data:`XSS_CORPUS` as text;
- ``time``: a call of ``get_current_time`` for Europe/Amsterdam, then a short Markdown answer;
- ``stamp``: the first token is ``stamp:<epoch ms>``, the moment it left the model (the page's
  latency measurement compares it with the moment the browser painted it);
- anything else: ``You said: <message>``.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio

from aiops_core.messages import ToolResultMessage, UserMessage
from aiops_core.providers.base import ModelRequest, ToolCallDelta
from aiops_core.providers.function import FunctionModel
from aiops_core.providers.registry import ProviderConfig, ProviderHandler

__all__ = ["SLOW_WORDS", "XSS_CORPUS", "XSS_TOOL_ARGUMENT", "ScriptedHandler"]

SLOW_WORDS = 300

XSS_TOOL_ARGUMENT = '<img src=x onerror="window.__xss=1">Europe/<script>window.__xss=2</script>'

XSS_CORPUS = "\n\n".join(
    [
        "Here is what the device description says:",
        "<script>window.__xss = 3; alert(3)</script>",
        '<img src="x" onerror="window.__xss = 4; alert(4)">',
        '<svg onload="window.__xss = 5"><circle r="5"/></svg>',
        "[click me](javascript:window.__xss=6) and [data](data:text/html,<script>alert(7)</script>)",
        '[tricky](  javascript:alert(8) "title") [entity](&#106;avascript:alert(9))',
        "![remote](https://attacker.example/pixel.png) ![inline](data:image/svg+xml,<svg/>)",
        '<a href="javascript:alert(10)">raw link</a> <iframe src="https://attacker.example">',
        '<details open ontoggle="window.__xss=11">x</details> <style>body{display:none}</style>',
        "A [safe link](https://docs.nautobot.com/) stays a link. **bold** and `code` stay.",
    ]
)


def _last_user_text(request: ModelRequest) -> str:
    for message in reversed(request.messages):
        if isinstance(message, UserMessage):
            return message.text
    return ""


def _tool_results_this_turn(request: ModelRequest) -> list[ToolResultMessage]:
    results: list[ToolResultMessage] = []
    for message in reversed(request.messages):
        if isinstance(message, UserMessage):
            break
        if isinstance(message, ToolResultMessage):
            results.append(message)
    return results


async def scripted_stream(request: ModelRequest) -> AsyncIterator[Any]:
    """The scripted answers (see the module docstring)."""
    text = _last_user_text(request)
    if "slow" in text:
        for i in range(SLOW_WORDS):
            await anyio.sleep(0.03)
            yield f"word{i} "
        return
    if "stamp" in text:
        yield f"stamp:{time.time() * 1000:.1f} "
        for i in range(20):
            yield f"word{i} "
        return
    if "time" in text and "get_current_time" in {t.name for t in request.tools}:
        results = _tool_results_this_turn(request)
        if not results:
            arguments = json.dumps({"timezone": "Europe/Amsterdam"})
            yield ToolCallDelta(0, id="call_time", name="get_current_time", arguments=arguments)
            return
        for word in f"In **Amsterdam** it is now:\n\n```json\n{results[0].text}\n```\n".split(" "):
            await anyio.sleep(0.01)
            yield word + " "
        return
    if "xss" in text:
        tools = {t.name for t in request.tools}
        if "get_current_time" in tools and not _tool_results_this_turn(request):
            arguments = json.dumps({"timezone": XSS_TOOL_ARGUMENT})
            yield ToolCallDelta(0, id="call_xss", name="get_current_time", arguments=arguments)
            return
        yield XSS_CORPUS
        return
    yield f"You said: {text}"


class ScriptedHandler(ProviderHandler):
    """Registry entry ``scripted`` (tests only)."""

    name = "scripted"
    Config = ProviderConfig
    options = frozenset()

    def create(self, model: str, config: ProviderConfig, **options: Any) -> FunctionModel:
        return FunctionModel(stream_function=scripted_stream, model_name=model or "scripted")
