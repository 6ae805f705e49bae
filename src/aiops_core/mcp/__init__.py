"""MCP client pool (arrives with the MCP issue)."""

from __future__ import annotations

__all__: list[str] = []
