"""What the engine's registries offer, seen from the database layer.

The registries of :mod:`aiops_core` resolve entries lazily. Listing them all at once fails as
soon as one entry cannot be imported (a third-party entry point with a missing dependency); here
every entry is resolved on its own so that one broken entry is logged and skipped instead of
breaking ``migrate`` or a form.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiops_core.errors import UnknownNameError

if TYPE_CHECKING:
    from aiops_core.middleware import Middleware
    from aiops_core.providers import ProviderHandler

__all__ = ["middleware_types", "provider_handler", "provider_handlers"]

logger = logging.getLogger(__name__)


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
    """Every registered provider handler that can be imported, by name."""
    from aiops_core.providers import get_provider
    from aiops_core.providers.registry import provider_names

    found = {}
    # One entry at a time: list_providers() would stop at the first that cannot be imported.
    for name in provider_names():
        try:
            found[name] = get_provider(name)
        except ImportError as err:
            logger.warning("Skipping provider handler %r: it cannot be imported (%s)", name, err)
    return found


def middleware_types() -> dict[str, type[Middleware]]:
    """Every registered middleware type that can be imported, by name."""
    from aiops_core.middleware import get_middleware_type
    from aiops_core.middleware.registry import middleware_type_names

    found = {}
    # As above: list_middleware_types() fails on the first entry that cannot be imported.
    for name in middleware_type_names():
        try:
            found[name] = get_middleware_type(name)
        except ImportError as err:
            logger.warning("Skipping middleware type %r: it cannot be imported (%s)", name, err)
    return found
