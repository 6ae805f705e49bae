"""What a run may swap: per-run arguments, and :meth:`Agent.override` for tests.

A run with overrides runs a shallow copy of the agent with those parts replaced, so the loop reads
one agent whatever was overridden; a run without any runs the agent itself (no copy). Values set
with :meth:`Agent.override` (a context variable: this task and the tasks it starts) win over the
run's own arguments, so a test can replace the model of code it does not control.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from ..errors import MessageError, UserError
from ..messages import Message, parse_message, validate_history
from ..providers.base import ChatModel, ModelSettings

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..tools import Tool, Toolset
    from .agent import Agent

__all__ = ["NOT_GIVEN", "Overrides", "history_of", "run_agent"]


class _NotGiven:
    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Any = _NotGiven()
"""An override that was not given (``None`` is a value: ``output_type=None`` means plain text)."""


_NONE_IS_A_VALUE = frozenset({"output_type", "deps"})


@dataclass(slots=True)
class Overrides:
    """The parts of an agent one run (or one ``override`` block) replaces."""

    model: str | ChatModel | None = None
    model_settings: ModelSettings | None = None
    tools: Iterable[Tool | Toolset | Callable[..., Any]] | None = None
    output_type: Any = NOT_GIVEN
    deps: Any = NOT_GIVEN

    def over(self, other: Overrides | None) -> Overrides:
        """These overrides with ``other``'s given values winning."""
        if other is None:
            return self
        merged = Overrides(**{f.name: getattr(self, f.name) for f in fields(self)})
        for f in fields(other):
            value = getattr(other, f.name)
            if value is not NOT_GIVEN and (value is not None or f.name in _NONE_IS_A_VALUE):
                setattr(merged, f.name, value)
        return merged


def run_agent(agent: Agent, given: Overrides) -> Agent:
    """The agent a run uses: ``agent`` itself, or a copy with the given parts replaced."""
    if not (
        given.model is not None
        or given.model_settings
        or given.tools is not None
        or given.output_type is not NOT_GIVEN
    ):
        return agent
    swapped = copy.copy(agent)
    if given.model is not None:
        swapped.model = agent._run_model(given.model)
    if given.model_settings:
        swapped.model_settings = ModelSettings(**{**agent.model_settings, **given.model_settings})
    if given.tools is not None:
        swapped._set_tools(given.tools)
    if given.output_type is not NOT_GIVEN:
        swapped._set_output(given.output_type)
    return swapped


def history_of(messages: Sequence[Message | Mapping[str, Any]]) -> list[Message]:
    """``message_history`` as typed messages, checked (a tool result follows its call)."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise UserError(
            "message_history is a list of messages, e.g. result.all_messages() of an earlier run"
        )
    history = [parse_message(m) for m in messages]
    try:
        validate_history(history)
    except MessageError as err:
        raise MessageError(f"message_history: {err}") from None
    return history
