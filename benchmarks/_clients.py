"""The two sides of every comparison: a turn made by hand with the raw ``openai`` SDK, and the same
turn through an ``aiops_core`` :class:`~aiops_core.Agent`.

Both use the same client settings (``httpx2`` pool limits, ``max_retries=0``, a dummy key) against
the same local server, so the difference is the engine and its handler, nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

__all__ = [
    "MODEL",
    "SYSTEM_PROMPT",
    "TOOLS",
    "Turn",
    "aiops_agent",
    "aiops_model",
    "aiops_turn",
    "device_status",
    "http_client",
    "openai_client",
    "prompt",
    "raw_stream_turn",
    "raw_turn",
]

MODEL = "gpt-4o-mini"
SYSTEM_PROMPT = "You are a network operations assistant. Use the tools to check devices."
MAX_CONNECTIONS = 512
"""Pool size for both sides: above the highest concurrency measured (no turn waits for a socket)."""

Turn = Callable[[int], Awaitable[Any]]
"""One agent turn; the argument is the turn's index (used to make prompts unique)."""

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "device_status",
            "description": "Return the operational status of a device.",
            "parameters": {
                "type": "object",
                "properties": {"name": {"type": "string", "description": "Device name."}},
                "required": ["name"],
                "additionalProperties": False,
            },
        },
    }
]


async def device_status(name: str) -> dict[str, Any]:
    """Return the operational status of a device.

    Args:
        name: Device name.
    """
    return {"device": name, "status": "up", "interfaces_up": 48, "cpu_percent": 12}


def prompt(index: int) -> str:
    """The user's question for turn ``index`` (unique, so a response cache always misses)."""
    return f"Is core-sw-01 up? Ticket {index}."


def http_client() -> Any:
    """The ``httpx2.AsyncClient`` both sides use (same pool limits and timeout)."""
    import httpx2

    limits = httpx2.Limits(
        max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
    )
    return httpx2.AsyncClient(limits=limits, timeout=60.0)


def openai_client(base_url: str) -> Any:
    """``openai.AsyncOpenAI`` with the benchmark's shared transport settings."""
    import openai

    return openai.AsyncOpenAI(
        base_url=base_url, api_key="bench", max_retries=0, timeout=60.0, http_client=http_client()
    )


def raw_turn(client: Any) -> Turn:
    """One turn by hand: model call, run the tool, model call with the result."""

    async def turn(index: int) -> str:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": prompt(index)},
        ]
        first = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
        message = first.choices[0].message
        calls = message.tool_calls or []
        messages.append(
            {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments},
                    }
                    for c in calls
                ],
            }
        )
        for call in calls:
            result = await device_status(**json.loads(call.function.arguments))
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
            )
        second = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
        return str(second.choices[0].message.content)

    return turn


def raw_stream_turn(client: Any) -> Turn:
    """:func:`raw_turn` with ``stream=True``: deltas assembled by hand."""

    async def stream_once(messages: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        stream = await client.chat.completions.create(
            model=MODEL, messages=messages, tools=TOOLS, stream=True
        )
        text: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        async for chunk in stream:
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    text.append(delta.content)
                for tc in delta.tool_calls or ():
                    slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                    slot["id"] = tc.id or slot["id"]
                    if tc.function is not None:
                        slot["name"] = tc.function.name or slot["name"]
                        slot["arguments"] += tc.function.arguments or ""
        return "".join(text), [calls[i] for i in sorted(calls)]

    async def turn(index: int) -> str:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": prompt(index)},
        ]
        text, calls = await stream_once(messages)
        messages.append(
            {
                "role": "assistant",
                "content": text or None,
                "tool_calls": [
                    {
                        "id": c["id"],
                        "type": "function",
                        "function": {"name": c["name"], "arguments": c["arguments"]},
                    }
                    for c in calls
                ],
            }
        )
        for call in calls:
            result = await device_status(**json.loads(call["arguments"]))
            messages.append(
                {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)}
            )
        text, _ = await stream_once(messages)
        return text

    return turn


def aiops_model(
    base_url: str, *, transport: str = "sdk"
) -> tuple[Any, str, Callable[[], Awaitable[None]]]:
    """The aiops chat model for the server, which implementation it is, and how to close it.

    The real ``openai`` handler (``get_chat_model``) over an injected client with the same
    settings as the raw side; the injected client is the caller's to close. ``transport="lean"``
    selects the handler's SDK-free transport.
    """
    from aiops_core.providers.registry import get_chat_model

    client = http_client()
    model = get_chat_model(
        f"openai:{MODEL}",
        base_url=base_url,
        api_key="bench",
        http_client=client,
        transport=transport,
    )

    async def aclose() -> None:
        await model.aclose()
        await client.aclose()

    return model, "aiops_core.providers.openai", aclose


def aiops_agent(
    model: Any,
    *,
    middleware: Iterable[Any] = (),
    store: Any = None,
) -> Any:
    """An agent with the benchmark's tool and system prompt."""
    from aiops_core import Agent, tool

    return Agent(
        model,
        tools=[tool(device_status)],
        system_prompt=SYSTEM_PROMPT,
        middleware=middleware,
        store=store,
    )


def aiops_turn(agent: Any, *, threads: str | None = None, stream: bool = False) -> Turn:
    """One ``Agent.run`` (or a drained ``Agent.stream``) per call.

    With ``threads`` (a thread-id prefix) every turn starts a new stored thread (a load that
    misses, then one append), so the request the model sees stays the size of the raw side's.
    """
    from aiops_core.agent.events import FinalResult

    async def run(index: int) -> Any:
        thread_id = f"{threads}{index}" if threads else None
        if not stream:
            return (await agent.run(prompt(index), thread_id=thread_id)).output
        output = None
        async for event in agent.stream(prompt(index), thread_id=thread_id):
            if isinstance(event, FinalResult):
                output = event.result.output
        return output

    return run
