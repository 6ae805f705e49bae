"""Structured output streamed as validated partial objects (``PartialOutput`` events).

While a model streams the JSON of a structured answer, the text so far is parsed as partial JSON
(an unfinished last string is kept as it is so far) and validated against the output type with
pydantic's partial validation (an unfinished last item of a list or dict is dropped). Each time the
result validates and differs from the previous one, an event carries it. A field without a default
is required, so an object appears once its required fields have arrived; fields with defaults fill
in as they arrive. The final, fully validated output is the run's result as always.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json

from .events import PartialOutput

__all__ = ["PartialOutputs"]

_NOTHING = object()


class PartialOutputs:
    """Turns one model step's text deltas into :class:`PartialOutput` events."""

    __slots__ = ("_adapter", "_last", "_text")

    def __init__(self, adapter: TypeAdapter[Any]) -> None:
        self._adapter = adapter
        self._text = ""
        self._last: Any = _NOTHING

    def feed(self, text: str) -> PartialOutput | None:
        """The event for the text so far plus ``text``, or ``None`` (nothing new validates)."""
        self._text += text
        try:
            data = from_json(self._text, allow_partial="trailing-strings")
            value = self._adapter.validate_python(
                data, experimental_allow_partial="trailing-strings"
            )
        except (ValueError, ValidationError):  # not JSON (yet), or not the output type (yet)
            return None
        if value == self._last:
            return None
        self._last = value
        return PartialOutput(value)
