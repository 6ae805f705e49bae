"""What the engine's registries offer, seen from the database layer.

The registries of :mod:`aiops_core` resolve entries lazily. Listing them all at once fails as
soon as one entry cannot be imported (a third-party entry point with a missing dependency); here
the registries' ``available()`` resolves every entry on its own, so that one broken entry is
logged and skipped instead of breaking ``migrate`` or a form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiops_core.errors import UnknownNameError

if TYPE_CHECKING:
    from aiops_core.middleware import Middleware
    from aiops_core.providers import ProviderHandler

__all__ = ["middleware_types", "provider_handler", "provider_handlers"]


def provider_handler(name: str) -> type[ProviderHandler] | None:
    """The handler registered as ``name``, or ``None`` for a custom (unregistered) provider.

    Raises:
        ImportError: the name is registered but its module cannot be imported.
    """
    from aiops_core.providers import get_provider

    try:
        return get_provider(name)
    except UnknownNameError:
        return None


def provider_handlers() -> dict[str, type[ProviderHandler]]:
    """Every registered provider handler that can be imported, by name (others are logged)."""
    from aiops_core.providers import provider_registry

    return provider_registry.available()


def middleware_types() -> dict[str, type[Middleware]]:
    """Every registered middleware type that can be imported, by name (others are logged)."""
    from aiops_core.middleware import middleware_registry

    return middleware_registry.available()
