"""The base of the app's REST viewsets: a value the request sent is the caller's error, never a 500.

Nautobot's viewsets let some refusals of a request value escape as server errors: an id that is
not a UUID in a detail action (``/conversations/x/notes/``) raises Django's ``ValidationError``;
a filter the database refuses (``name__re=(``, a date before year 1, a NUL character) raises a
``DataError``. Both describe the request, so both are answered 400 with what to change.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from nautobot.apps.api import NautobotModelViewSet
from rest_framework import exceptions

__all__ = ["ModelViewSet", "as_client_error"]


def as_client_error(exc: BaseException) -> exceptions.APIException | None:
    """The 400 answer for an exception caused by a value in the request, else ``None``."""
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError({"detail": exc.messages})
    if isinstance(exc, DataError):
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return exceptions.ValidationError(
            {"detail": f"a value in this request cannot be used ({reason}); change it and retry"}
        )
    return None


class ModelViewSet(NautobotModelViewSet):
    """``NautobotModelViewSet`` that answers 400 where a request value is refused downstream."""

    def handle_exception(self, exc: Exception) -> Any:
        return super().handle_exception(as_client_error(exc) or exc)
