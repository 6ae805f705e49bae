"""Validation shared by the models: engine errors become field errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError

from aiops_core.errors import UserError

T = TypeVar("T")


def require_object(value: Any, field: str) -> dict[str, Any]:
    """A JSON field that must hold an object (dict)."""
    if not isinstance(value, dict):
        raise ValidationError({field: "Enter a JSON object, for example {}."})
    return value


def require_string_list(value: Any, field: str) -> list[str]:
    """A JSON field that must hold a list of non-empty strings."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError({field: 'Enter a JSON list of strings, for example ["a", "b"].'})
    return value


def stored_values(instance: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """The saved values of ``fields`` of ``instance`` (``None`` for a row not saved yet)."""
    if instance._state.adding or instance.pk is None:
        return None
    values: dict[str, Any] | None = (
        type(instance).objects.filter(pk=instance.pk).values(*fields).first()
    )
    return values


def engine_check(field: str, check: Callable[[], T]) -> T:
    """Run an engine validation and report its :class:`UserError` on ``field``."""
    try:
        return check()
    except UserError as err:
        raise ValidationError({field: str(err)}) from None
    except ImportError as err:
        raise ValidationError(
            {field: f"The engine entry for this value cannot be imported: {err}"}
        ) from None


def policy_check(field: str, check: Callable[[], T]) -> T:
    """Run a :mod:`aiops_nautobot.policy` check and report its refusal on ``field``."""
    from ..policy import PolicyError

    try:
        return check()
    except PolicyError as err:
        raise ValidationError({field: str(err)}) from None
