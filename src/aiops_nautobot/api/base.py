"""The base of the app's REST viewsets: a value the request sent is the caller's error, never a 500.

Nautobot's viewsets let some refusals of a request value escape as server errors (found by the
OpenAPI fuzz, tests/reliability/test_openapi_fuzz.py):

- an id that is not a UUID in a detail action (``/conversations/x/notes/``): Django's
  ``ValidationError``; an id with a ``:`` is read as a composite key and can raise ``ValueError``,
  and any non-UUID id of a model without a natural key (change sets) ``AttributeError``;
- a filter the database refuses (``name__re=(``, a NUL character): ``DataError``;
- ``?exclude_m2m=maybe``: ``ValueError`` from Nautobot's truthy parser;
- ``?format=csv`` on a write whose body is not CSV: an ``AttributeError`` in the CSV path.

Each describes the request, so each is answered 400 (or 404 for the id) with what to change.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from nautobot.apps.api import NautobotModelViewSet
from nautobot.apps.api import ReadOnlyModelViewSet as NautobotReadOnlyModelViewSet
from nautobot.core.settings_funcs import is_truthy
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS

__all__ = ["ClientErrorsMixin", "ModelViewSet", "ReadOnlyModelViewSet", "as_client_error"]


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


class ClientErrorsMixin:
    """Answers 400 (or 404 for an id) where a request value is refused downstream."""

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        flag = request.query_params.get("exclude_m2m")  # read by Nautobot before the handler
        if flag is not None:
            try:
                is_truthy(flag)
            except ValueError:
                raise exceptions.ValidationError(
                    {"exclude_m2m": f"{flag!r} is not true or false; send true or false"}
                ) from None
        super().initial(request, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if (
            request.method not in SAFE_METHODS
            and getattr(renderer, "format", None) == "csv"
            and not (request.content_type or "").startswith("text/csv")
        ):
            raise exceptions.NotAcceptable(
                "a CSV answer is given to a CSV body only: send text/csv, or ask for JSON"
            )

    def filter_queryset(self, queryset: Any) -> Any:
        try:
            return super().filter_queryset(queryset)
        except ValueError as err:  # e.g. "Cannot use None as a query value" from a lookup
            raise exceptions.ValidationError(
                {"detail": f"a filter cannot be used: {err}"}
            ) from None

    def get_object(self) -> Any:
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        try:
            return super().get_object()
        except (ValueError, AttributeError) as err:
            # An id that is neither a UUID nor a composite key of this model: ValueError, or
            # AttributeError from a model without a natural key (Nautobot reads a non-UUID id
            # as one). An AttributeError with a UUID id is a bug: raised as it is.
            if isinstance(err, AttributeError) and _is_uuid(lookup):
                raise
            name = self.queryset.model._meta.verbose_name
            raise exceptions.NotFound(f"no {name} has the id {lookup!r}") from None

    def handle_exception(self, exc: Exception) -> Any:
        return super().handle_exception(as_client_error(exc) or exc)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class ModelViewSet(ClientErrorsMixin, NautobotModelViewSet):
    """``NautobotModelViewSet`` that answers 400 where a request value is refused downstream."""


class ReadOnlyModelViewSet(ClientErrorsMixin, NautobotReadOnlyModelViewSet):
    """Nautobot's read-only viewset (no notes, no custom fields) with the same 400 answers."""
