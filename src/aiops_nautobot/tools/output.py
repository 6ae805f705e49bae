"""Tool results as compact JSON text, capped with a marker the model understands."""

from __future__ import annotations

import json
from typing import Any

from aiops_core.truncation import truncate_text

__all__ = ["cap"]

_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False)


def cap(data: Any, limit: int) -> str:
    """``data`` as compact JSON text; past ``limit`` characters it is cut there and ends with the
    engine's truncation marker (so one call can never flood the model's context)."""
    return truncate_text(_ENCODER.encode(data), limit)
