"""The load harness: concurrent conversations, their acknowledged turns, and the check after.

Each conversation sends turns ``<conversation>-t<n>`` one after the other; the fake provider
(:func:`responder`) answers a user message with a tool call and a tool result with the final
answer, so every whole turn is four messages: user, assistant (tool call), tool result,
assistant (``answer: <tool result>``). :func:`check_threads` then proves, per conversation,
that every acknowledged turn is stored exactly once, in order, and that no turn is stored
half.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from aiops_core.checkpoint import CheckpointStore
from aiops_core.messages import (
    AssistantMessage,
    Message,
    ToolResultMessage,
    UserMessage,
    content_text,
)
from tests.servers.llm import Reply, Script

__all__ = ["Load", "check_threads", "responder", "run_load"]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def responder(tool: str = "lookup", argument: str = "key") -> Callable[[str, dict], Script]:
    """Answer an OpenAI chat request from its messages: call ``tool`` with the user's text,
    then answer ``answer to <user text>: <tool result>``."""

    def answer(route: str, body: dict[str, Any]) -> Script:
        assert route == "openai", route
        messages = body["messages"]
        last = messages[-1]
        if last["role"] == "tool":
            asked = next(_text(m["content"]) for m in reversed(messages) if m["role"] == "user")
            return Reply(text=f"answer to {asked}: {_text(last['content'])}", chunk=64)
        return Reply(tool_calls=[(tool, {argument: _text(last["content"])})], chunk=64)

    return answer


@dataclass
class Load:
    """What a load run saw: acknowledged turns, errors and latencies."""

    name: str
    conversations: int
    turns: int
    acknowledged: dict[str, list[str]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    messages: dict[str, str] = field(default_factory=dict)
    """One example message per error kind (what the user saw)."""
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    sent: int = 0
    """Turns attempted."""
    degraded: int = 0
    """Stored turns whose tool failed (the model answered from the tool's error)."""
    failures: list[tuple[float, str]] = field(default_factory=list)
    """``(monotonic time, kind)`` of every failed turn."""
    successes: list[float] = field(default_factory=list)
    """Monotonic end time of every acknowledged turn answered from a working tool."""
    answers: list[tuple[float, str]] = field(default_factory=list)
    """``(monotonic time, answer)`` of every degraded turn (what the user saw)."""
    window: tuple[float, float] | None = None
    """When the injected fault started and ended (monotonic), once it has ended."""

    @property
    def acked(self) -> int:
        return sum(len(turns) for turns in self.acknowledged.values())

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def percentile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]

    def recovery(self) -> float | None:
        """Seconds from the end of the fault to the first turn answered normally after the last
        failed or degraded one (``None``: no such turn)."""
        assert self.window is not None, "no fault window"
        ended = self.window[1]
        start = max([ended, *(t for t, _ in self.failures)])
        after = [t for t in self.successes if t >= start]
        return (min(after) - ended) if after else None


async def run_load(
    name: str,
    turn: Callable[[str, str], Awaitable[str]],
    *,
    conversations: int,
    turns: int,
    during: Callable[[Load], Awaitable[None]] | None = None,
    pause: float = 0.0,
    settle: float = 1.0,
) -> Load:
    """Run ``conversations`` concurrent conversations of at least ``turns`` turns each.

    ``turn(thread_id, prompt)`` runs one turn and returns the answer text (``answer to
    <prompt>: <tool result>``); an exception counts as a failed turn, an answer whose tool
    result lacks the prompt as degraded. ``during(load)`` runs beside the load (the fault
    injector; it sets :attr:`Load.window`): conversations keep going until ``settle`` seconds
    after the fault ended, so recovery shows under load. ``pause`` spaces each conversation's
    turns.
    """
    load = Load(name, conversations, turns)

    def settled() -> bool:
        return load.window is not None and time.monotonic() > load.window[1] + settle

    async def converse(index: int) -> None:
        thread_id = f"{name}-c{index}"
        acked = load.acknowledged.setdefault(thread_id, [])
        number = 0
        while number < turns or (during is not None and not settled()):
            prompt = f"{thread_id}-t{number}"
            number += 1
            load.sent += 1
            started = time.perf_counter()
            try:
                answer = await turn(thread_id, prompt)
            except Exception as err:  # every failure is counted and shown, none is hidden
                kind = type(err).__name__
                load.errors[kind] += 1
                load.messages.setdefault(kind, str(err)[:300])
                load.failures.append((time.monotonic(), kind))
            else:
                assert f"answer to {prompt}:" in answer, (prompt, answer)
                load.latencies.append(time.perf_counter() - started)
                if prompt in answer.partition(": ")[2]:
                    load.successes.append(time.monotonic())
                else:
                    load.failures.append((time.monotonic(), "degraded"))
                    load.answers.append((time.monotonic(), answer[:300]))
                acked.append(prompt)
            if pause:
                await anyio.sleep(pause)

    began = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for index in range(conversations):
            tg.start_soon(converse, index)
        if during is not None:
            await during(load)
    load.seconds = time.perf_counter() - began
    return load


def _turns(thread_id: str, messages: list[Message]) -> list[list[Message]]:
    turns: list[list[Message]] = []
    for message in messages:
        if isinstance(message, UserMessage):
            turns.append([message])
        else:
            assert turns, f"{thread_id}: a message before the first user message: {message!r}"
            turns[-1].append(message)
    return turns


def check_whole(thread_id: str, turn: list[Message]) -> tuple[str, bool]:
    """``(prompt, tool failed)`` of a whole turn (user, tool call, tool result, final answer);
    anything else fails."""
    user = turn[0]
    assert isinstance(user, UserMessage)
    prompt = content_text(user.content)
    kinds = [type(m).__name__ for m in turn]
    assert len(turn) == 4, f"{thread_id}: half a turn stored for {prompt!r}: {kinds}"
    call, result, final = turn[1], turn[2], turn[3]
    assert isinstance(call, AssistantMessage) and len(call.tool_calls) == 1, kinds
    assert isinstance(result, ToolResultMessage), (thread_id, result)
    assert result.tool_call_id == call.tool_calls[0].id
    assert isinstance(final, AssistantMessage) and not final.tool_calls, kinds
    assert f"answer to {prompt}:" in content_text(final.content), (thread_id, final)
    if not result.is_error:
        assert prompt in content_text(result.content), (thread_id, result)
    return prompt, result.is_error


async def check_threads(store: CheckpointStore, load: Load) -> int:
    """Every acknowledged turn stored exactly once and in order; no half turn. Returns turns."""
    stored_turns = 0
    for thread_id, acked in load.acknowledged.items():
        thread = await store.load(thread_id)
        messages = thread.messages if thread is not None else []
        checked = [check_whole(thread_id, turn) for turn in _turns(thread_id, messages)]
        prompts = [prompt for prompt, _ in checked]
        load.degraded += sum(failed for _, failed in checked)
        stored_turns += len(prompts)
        assert len(prompts) == len(set(prompts)), f"{thread_id}: a turn stored twice: {prompts}"
        assert prompts == sorted(prompts, key=lambda p: int(p.rsplit("-t", 1)[1])), prompts
        missing = [p for p in acked if p not in prompts]
        assert not missing, f"{thread_id}: acknowledged turns lost: {missing}"
    return stored_turns
