"""Secret masking: one mask, one rule for secret names, one URL masker and one scrubber.

Everything that shows configuration or an error to a person goes through here:

- :data:`MASK` is what a hidden value looks like, everywhere.
- :func:`is_secret_name` decides whether a config key or an HTTP header holds a credential
  (``api_key``, ``Authorization``, ``X-Auth-Token``; not ``max_tokens`` or ``key_prefix``).
- :func:`mask_values` masks the secret-named values of a (nested) mapping and the passwords of the
  URLs in it; :func:`mask_url` masks one URL.
- :class:`Scrubber` removes known secret values from any text: the value as it is, stripped of
  surrounding white space, and the escaped forms in which error messages quote it (Python
  ``repr`` of the string and of its bytes, JSON, URL encoding), so that a key with a trailing
  newline cannot leak through an ``Illegal header value b'Bearer sk-...\\n'`` error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import pairwise
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "MASK",
    "Scrubber",
    "is_secret_name",
    "mask_url",
    "mask_values",
    "scrub",
]

MASK = "***"
"""What a secret looks like in reprs, logs, dumps and error messages."""

MIN_SECRET_LENGTH = 4
"""Shorter values are not scrubbed from text: they would mangle ordinary words."""

# Words of a name that make it secret on their own ("password", "X-Auth-Token") or at the end
# of a compound word ("accesstoken", "dbpassword"). "tokens" (max_tokens) and "key" alone
# (key_prefix, cache key) are not secret.
_SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "auth",
    "authorization",
    "credential",
    "credentials",
    "cookie",
    "apikey",
    "accesskey",
    "privatekey",
    "secretkey",
    "sessionid",
)
# Two words that are secret together: "api_key", "X-API-Key", "Ocp-Apim-Subscription-Key".
_SECRET_PAIRS = frozenset(
    {("api", "key"), ("access", "key"), ("private", "key"), ("subscription", "key")}
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _words(name: str) -> list[str]:
    """The lower-case words of a name in any case style (``X-API-Key``, ``apiKey``, ``api_key``)."""
    return [word.lower() for word in _WORD.findall(name)]


def is_secret_name(name: str) -> bool:
    """Whether a config key or HTTP header name holds a credential.

    >>> [is_secret_name(n) for n in ("api_key", "Authorization", "X-API-Key", "max_tokens")]
    [True, True, True, False]
    """
    words = _words(name)
    if any(word.endswith(_SECRET_WORDS) for word in words):
        return True
    return any(pair in _SECRET_PAIRS for pair in pairwise(words))


_QUERY_ITEM = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#?]++)=(?P<value>[^&;#]*+)")


def mask_url(url: str) -> str:
    """The URL with its user information and secret-named query values replaced by :data:`MASK`.

    >>> mask_url("redis://:pw@cache:6379/2?password=x&db=1")
    'redis://***@cache:6379/2?password=***&db=1'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    query_at = min((i for i in (rest.find("?"), rest.find("#")) if i != -1), default=len(rest))
    head, tail = rest[:query_at], rest[query_at:]
    # The user information ends at the last "@" before the query, so a password holding an
    # unescaped "/" is hidden whole (a path holding "@" is masked too: the safe side).
    if "@" in head and not head.startswith("/"):
        head = f"{MASK}@{head.rpartition('@')[2]}"
    if tail.startswith("?"):
        tail = _QUERY_ITEM.sub(_mask_query_item, tail)
    return f"{scheme}://{head}{tail}"


def _mask_query_item(match: re.Match[str]) -> str:
    if not match["value"] or not is_secret_name(match["name"]):
        return match[0]
    return f"{match['lead']}{match['name']}={MASK}"


def mask_values(value: Any, key: str = "") -> Any:
    """A copy of JSON-like data with secrets masked.

    Values under a secret name (:func:`is_secret_name`), also inside lists, become :data:`MASK`;
    URLs anywhere lose their passwords (:func:`mask_url`). Other values are kept.
    """
    if isinstance(value, Mapping):
        return {k: mask_values(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_values(v, key) for v in value]
    if isinstance(value, str) and value:
        if key and is_secret_name(key):
            return MASK
        if "://" in value:
            return mask_url(value)
    return value


def _forms(value: str) -> Iterator[str]:
    """The ways a value is quoted in error messages and logs."""
    for text in {value, value.strip()}:
        yield text
        yield repr(text)[1:-1]
        yield repr(text.encode("utf-8", "backslashreplace"))[2:-1]
        yield json.dumps(text)[1:-1]
        yield json.dumps(text, ensure_ascii=False)[1:-1]
        yield quote(text, safe="")
        yield quote(text)
        yield quote_plus(text)


class Scrubber:
    """Removes known secret values from text, in every form an error message may quote them.

    Args:
        secrets: the values to hide (``None`` and values shorter than 4 characters are ignored).

    A scrubber is callable: ``scrubber(text)`` returns ``text`` with each secret replaced by
    :data:`MASK`. Its ``repr`` never shows the secrets.
    """

    __slots__ = ("_pattern",)

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        forms = {
            form
            for secret in secrets
            if secret and len(secret.strip()) >= MIN_SECRET_LENGTH
            for form in _forms(secret)
            if len(form) >= MIN_SECRET_LENGTH
        }
        # Longest first: the alternation takes the first that matches, so a quoted form wins
        # over the bare value it contains and leaves no escape characters behind.
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __repr__(self) -> str:
        return f"Scrubber({MASK})" if self else "Scrubber()"

    def __call__(self, text: str) -> str:
        """``text`` with every secret (and every escaped form of it) replaced by :data:`MASK`."""
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def found_in(self, text: str) -> bool:
        """Whether ``text`` holds a secret in any of its forms."""
        return self._pattern is not None and self._pattern.search(text) is not None

    def leaks(self, err: BaseException) -> bool:
        """Whether an exception, its causes, contexts or group members show a secret."""
        if self._pattern is None:
            return False
        seen: set[int] = set()
        todo: list[BaseException] = [err]
        while todo:
            current = todo.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            if self.found_in(str(current)) or self.found_in(repr(current)):
                return True
            todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
            if isinstance(current, BaseExceptionGroup):
                todo.extend(current.exceptions)
        return False


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with each of ``secrets`` (in every quoted form) replaced by :data:`MASK`."""
    return Scrubber(secrets)(text)
