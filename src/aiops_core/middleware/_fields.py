"""Validation shared by the middleware config schemas, as field annotations.

``reason: Annotated[str, template(tool="x")]`` accepts only ``str.format`` templates that use the
named placeholders; ``categories: Annotated[list[str], names_from(CATEGORIES, "categories")]``
accepts only known names. Errors say what is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from pydantic import AfterValidator

__all__ = ["check_template", "names_from", "template"]


def check_template(value: str, **names: str) -> str:
    """Validate a ``str.format`` template that may use only ``names``."""
    try:
        value.format(**names)
    except (KeyError, IndexError, ValueError) as err:
        allowed = ", ".join("{" + n + "}" for n in names) or "no placeholders"
        raise ValueError(f"invalid template {value!r} ({err!r}); it may use {allowed}") from None
    return value


def template(**names: str) -> AfterValidator:
    """A field that is a ``str.format`` template using only ``names`` (values do not matter)."""
    return AfterValidator(partial(check_template, **names))


def _check_names(value: list[str], *, known: tuple[str, ...], what: str) -> list[str]:
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; known: {', '.join(known)}")
    return value


def names_from(known: Iterable[str], what: str) -> AfterValidator:
    """A list field whose items must be among ``known`` (``what`` names them in the error)."""
    return AfterValidator(partial(_check_names, known=tuple(known), what=what))
