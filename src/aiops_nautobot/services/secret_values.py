"""Reading Nautobot ``Secret`` values for the engine, without ever showing them.

Errors name the Secret and say what to check; they never contain the value, and not the secret
provider's own message either (it may describe where the value lives).
"""

from __future__ import annotations

import json
from typing import Any

from .errors import NotConfiguredError

__all__ = ["secret_json_object", "secret_value"]


def secret_value(secret: Any, obj: Any, what: str) -> str:
    """The value of ``secret`` (read for ``obj``, which secret providers may use).

    Raises:
        NotConfiguredError: the secret cannot be read or is empty.
    """
    try:
        value = secret.get_value(obj=obj)
    except Exception as err:
        raise NotConfiguredError(
            f"The {what} secret {secret.name!r} cannot be read: {type(err).__name__}; check the "
            "secret's provider and parameters"
        ) from None
    if not value:
        raise NotConfiguredError(f"The {what} secret {secret.name!r} is empty")
    return str(value)


def secret_json_object(secret: Any, obj: Any, what: str) -> dict[str, str]:
    """A secret whose value is a JSON object of strings (HTTP headers, environment variables).

    Raises:
        NotConfiguredError: it cannot be read, or is not a JSON object.
    """
    value = secret_value(secret, obj, what)
    try:
        data = json.loads(value)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise NotConfiguredError(
            f'The {what} secret {secret.name!r} must hold a JSON object, e.g. {{"Header": "value"}}'
        )
    return {str(k): str(v) for k, v in data.items()}
