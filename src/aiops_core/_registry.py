"""``Registry``: named, lazily imported classes (provider handlers, middleware types).

One registry per kind of plug-in. Entries come from three places, later ones winning:

1. built-ins, given as ``"module:Class"`` references so that listing names imports nothing;
2. the entry-point group of the kind (``aiops_core.providers``, ``aiops_core.middleware``),
   read once on first use;
3. :meth:`Registry.register` in code.

Tests change a registry only inside :meth:`Registry.override`, which restores it on exit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from ._lazy import import_reference
from .errors import RegistryLoadError, UnknownNameError, UserError

__all__ = ["Registry"]

log = logging.getLogger("aiops_core.registry")

T = TypeVar("T")


@dataclass
class _Entries(Generic[T]):
    registered: dict[str, type[T] | str] = field(default_factory=dict)
    discovered: dict[str, str] | None = None  # entry points; None until read


class Registry(Generic[T]):
    """Classes of one kind by name.

    Args:
        kind: what an entry is, for messages (``"provider"``, ``"middleware type"``).
        base: the class every entry must subclass.
        group: the entry-point group third-party packages register in.
        builtins: name -> ``"module:Class"`` of the entries that ship with aiops.
        load_error: raised when an entry cannot be imported.
        forbidden: characters a name may not contain.
    """

    def __init__(
        self,
        kind: str,
        *,
        base: type[T],
        group: str,
        builtins: Mapping[str, str],
        load_error: type[RegistryLoadError] = RegistryLoadError,
        forbidden: str = "",
    ) -> None:
        self.kind = kind
        self.base = base
        self.group = group
        self._builtins = dict(builtins)
        self._load_error = load_error
        self._forbidden = forbidden
        self._entries: _Entries[T] = _Entries()

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, group={self.group!r})"

    # ------------------------------------------------------------------ entries
    def _known(self) -> dict[str, type[T] | str]:
        entries = self._entries
        if entries.discovered is None:
            entries.discovered = {ep.name: ep.value for ep in entry_points(group=self.group)}
        return {**self._builtins, **entries.discovered, **entries.registered}

    def register(self, name: str, entry: type[T] | str) -> None:
        """Register a class (or a ``"module:Class"`` reference, imported when first used).

        Raises:
            UserError: the name is empty or contains a forbidden character.
        """
        if not isinstance(name, str) or not name or any(c in name for c in self._forbidden):
            rule = (
                f" without {' or '.join(repr(c) for c in self._forbidden)}"
                if self._forbidden
                else ""
            )
            raise UserError(
                f"{self.kind.capitalize()} name {name!r} is invalid: use a non-empty name{rule}"
            )
        self._entries.registered[name] = entry

    def names(self) -> list[str]:
        """Every registered name, sorted, without importing any entry."""
        return sorted(self._known())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._known()

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``, imported on first use.

        Raises:
            UnknownNameError: no such name (the message suggests the closest).
            RegistryLoadError: the entry's module cannot be imported.
            UserError: the entry is not a subclass of the registry's base class.
        """
        known = self._known()
        if name not in known:
            raise UnknownNameError(self.kind, name, known)
        entry = known[name]
        if isinstance(entry, str):
            try:
                entry = import_reference(entry)
            except (ImportError, AttributeError) as err:
                raise self._load_error(
                    f"{self.kind.capitalize()} {name!r} cannot be loaded from {known[name]} "
                    f"({err}); check the package that registers it is installed"
                ) from err
        if not (isinstance(entry, type) and issubclass(entry, self.base)):
            raise UserError(
                f"{self.kind.capitalize()} {name!r} is registered as {entry!r}, "
                f"not a {self.base.__name__} subclass"
            )
        return entry

    def load_all(self) -> dict[str, type[T]]:
        """Every entry by name, imported (raises on the first that cannot be)."""
        return {name: self.get(name) for name in self.names()}

    def available(self) -> dict[str, type[T]]:
        """Every entry that can be imported, by name; the others are logged and skipped.

        For listings that must not fail because one third-party entry is broken (a form's
        choices, a migration).
        """
        found: dict[str, type[T]] = {}
        for name in self.names():
            try:
                found[name] = self.get(name)
            except UserError as err:  # RegistryLoadError, or not a subclass
                log.warning("Skipping %s %r: %s", self.kind, name, err)
        return found

    # ------------------------------------------------------------------ tests
    @contextmanager
    def override(
        self,
        entries: Mapping[str, type[T] | str] | None = None,
        *,
        reread_entry_points: bool = False,
    ) -> Iterator[Registry[T]]:
        """Change the registry for the duration of a ``with`` block only.

        ``entries`` are registered inside the block; so is anything :meth:`register` adds
        there. On exit the registry is as before.

        Args:
            entries: name -> class or ``"module:Class"`` to add (or replace) in the block.
            reread_entry_points: read the entry-point group afresh inside the block (a test
                that installs a distribution on ``sys.path``).
        """
        saved = self._entries
        self._known()  # entry points read outside the block stay read after it
        self._entries = _Entries(
            registered=dict(saved.registered),
            discovered=None if reread_entry_points else saved.discovered,
        )
        try:
            for name, entry in (entries or {}).items():
                self.register(name, entry)
            yield self
        finally:
            self._entries = saved
