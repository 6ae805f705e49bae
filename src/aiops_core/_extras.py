"""Which install extra provides an optional package, and the error that says so.

The base install (``pip install aiops``) runs the engine, the ``test`` model, MCP and the SQLite
store. Everything else comes with an extra: ``pip install 'aiops[redis]'``. A missing package
must never surface as a bare ``ModuleNotFoundError``: the boundary that imports it turns the
error into a :class:`~aiops_core.errors.UserError` naming the extra with :func:`missing_extra`.
"""

from __future__ import annotations

from .errors import UserError

__all__ = ["EXTRAS", "extra_for", "missing_extra"]

EXTRAS: dict[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "ollama": "ollama",
    "huggingface_hub": "huggingface",
    "redis": "redis",
    "psycopg": "postgres",
    "psycopg_binary": "postgres",
    "nautobot": "nautobot",
    "opentelemetry": "otel",
    "django": "nautobot",
}
"""Top-level import name of an optional package -> the extra that installs it."""


def extra_for(module: str | None) -> str | None:
    """The extra that installs ``module`` (a dotted name is reduced to its top level)."""
    if not module:
        return None
    return EXTRAS.get(module.partition(".")[0])


def missing_extra(err: ModuleNotFoundError, needed_for: str) -> UserError | ModuleNotFoundError:
    """A :class:`UserError` naming the extra to install, or ``err`` itself when none applies.

    Args:
        err: the import failure.
        needed_for: what needs the package, e.g. ``"The redis:// store"``.
    """
    extra = extra_for(err.name)
    if extra is None:
        return err
    return UserError(
        f"{needed_for} needs the {err.name!r} package, which is not installed: "
        f"pip install 'aiops[{extra}]'"
    )
