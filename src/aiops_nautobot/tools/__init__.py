"""The Nautobot-native toolset: read the source of truth as the asking user.

One module per concern: :mod:`.access` (what may be read, ``restrict(user, "view")``),
:mod:`.detail`, :mod:`.search` (FilterSets), :mod:`.graphql` (limits before execution, saved
queries), :mod:`.groups`, :mod:`.changelog`, :mod:`.jobs`, :mod:`.values` (field rendering),
:mod:`.output` (capping), :mod:`.workers` (parallel ORM threads), :mod:`.toolset` (the tools).
"""

from __future__ import annotations

from .access import ToolInputError
from .config import NATIVE_TOOLS_DEFAULTS, NativeToolsConfig, parse_native_tools
from .toolset import native_tools

__all__ = [
    "NATIVE_TOOLS_DEFAULTS",
    "NativeToolsConfig",
    "ToolInputError",
    "native_tools",
    "parse_native_tools",
]
