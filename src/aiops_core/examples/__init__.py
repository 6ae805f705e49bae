"""Example tools shipped with aiops (used by ``aiops demo``)."""

from __future__ import annotations

from .inventory import inventory_tools

__all__ = ["inventory_tools"]
