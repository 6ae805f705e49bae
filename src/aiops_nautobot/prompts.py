"""Rendering of system prompt placeholders.

Only the documented placeholders are replaced; every other brace (JSON examples, Jinja, format
strings) is left exactly as written, so a prompt can never fail to render.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["PLACEHOLDERS", "render_prompt"]

PLACEHOLDERS = ("current_date", "current_time", "model_name", "provider", "environment", "user")
# ``{{user}}`` is Jinja, not a placeholder: doubled braces are left alone.
_PATTERN = re.compile(r"(?<!\{)\{(" + "|".join(PLACEHOLDERS) + r")\}(?!\})")


def render_prompt(text: str, values: Mapping[str, object]) -> str:
    """Replace ``{placeholder}`` for the known placeholders present in ``values``.

    Args:
        text: the prompt text.
        values: placeholder values; missing placeholders stay as written.

    Returns:
        The rendered text.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in values else match.group(0)

    return _PATTERN.sub(substitute, text)
