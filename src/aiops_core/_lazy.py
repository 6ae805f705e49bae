"""Lazy imports: ``"module:attribute"`` references and lazily exported package names.

Two things load on first use here: the entries of the registries (built-in provider handlers and
middleware types are ``"module:Class"`` strings) and the public names of packages whose
implementations pull in heavy dependencies (``aiops_core``, ``aiops_core.checkpoint``).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["import_reference", "lazy_exports"]


def import_reference(reference: str) -> Any:
    """The object a ``"package.module:attribute"`` reference names, imported now.

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such attribute.
    """
    module, _, attribute = reference.partition(":")
    value: Any = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        value = getattr(value, part)
    return value


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose names import on first access.

    Args:
        package: the package's ``__name__``.
        exports: public name -> the module that defines it (``"aiops_core.agent"``).

    A name is imported once and then stored in the package, so later lookups are plain
    attribute reads.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
