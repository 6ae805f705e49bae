"""Patterns of sensitive data: personal data, credentials, and secrets in device configurations.

Each pattern has a name (the type a user turns on or off) and, where only part of a match is
secret, a ``keep`` group: the keyword before the secret stays readable
(``snmp-server community [REDACTED:password] RO``).

Every pattern runs in time linear in the length of the text: they run on user input, tool results
and model answers, on the event loop. Bounded windows and possessive quantifiers keep the regexes
from backtracking over a whole text; the two shapes that a backtracking regex cannot find in
linear time (an e-mail address: the local part is found only at its ``@``; a private key: its
``-----END`` line may never come) are small scanners. ``tests/core/middleware/test__patterns.py``
checks each on adversarial inputs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

__all__ = ["PATTERNS", "SECRET_TYPES", "Pattern", "luhn_ok", "redact"]

Span = tuple[int, int, int]
"""``(start, keep_end, end)``: ``text[start:keep_end]`` stays visible, ``[keep_end:end]`` goes."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named kind of sensitive data and how to find it.

    ``regex`` finds the matches (group ``keep``, when present, is left visible, the rest is
    replaced) unless ``scan`` is set; then ``regex`` only marks where a match may be (it must
    match wherever ``scan`` finds one) and ``scan`` yields the ``(start, end)`` of each match.
    """

    type: str
    regex: re.Pattern[str]
    scan: Callable[[str], Iterator[tuple[int, int]]] | None = None

    def spans(self, text: str) -> Iterator[Span]:
        """Every match in ``text``, left to right, not overlapping."""
        if self.scan is not None:
            for start, end in self.scan(text):
                yield start, start, end
            return
        keep = "keep" in self.regex.groupindex
        for match in self.regex.finditer(text):
            yield match.start(), match.end("keep") if keep else match.start(), match.end()


def _p(type_: str, regex: str, flags: int = 0) -> Pattern:
    return Pattern(type_, re.compile(regex, flags))


# --------------------------------------------------------------------------- scanners
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY-----")


def _private_keys(text: str) -> Iterator[tuple[int, int]]:
    """PEM private-key blocks: from a ``BEGIN`` line to the first ``END`` line after it."""
    pos = 0
    while (begin := _PEM_BEGIN.search(text, pos)) is not None:
        end = _PEM_END.search(text, begin.end())
        if end is None:
            return  # no END after this BEGIN, so none after a later one either
        yield begin.start(), end.end()
        pos = end.end()


_EMAIL_LOCAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-")
_EMAIL_DOMAIN = re.compile(r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b")


def _is_word(text: str, index: int) -> bool:
    r"""Whether ``text[index]`` is a regex word character (``\w``); outside the text it is not."""
    return 0 <= index < len(text) and (text[index].isalnum() or text[index] == "_")


def _emails(text: str) -> Iterator[tuple[int, int]]:
    r"""E-mail addresses, found from their ``@``.

    The matches of the regex ``\b[A-Za-z0-9._%+\-]+@`` followed by the domain, which would try
    every start in a long run of local-part characters and scan the run again from each.
    """
    last = 0
    at = text.find("@")
    while at != -1:
        start = at
        while start > last and text[start - 1] in _EMAIL_LOCAL:
            start -= 1
        # The address starts at the first word boundary of the local part (the regex's \b).
        first = next(
            (i for i in range(start, at) if _is_word(text, i - 1) != _is_word(text, i)), None
        )
        domain = _EMAIL_DOMAIN.match(text, at + 1) if first is not None else None
        if first is not None and domain is not None:
            yield first, domain.end()
            last = domain.end()
            at = text.find("@", last)
        else:
            at = text.find("@", at + 1)


_CFG = re.IGNORECASE | re.MULTILINE
PATTERNS: tuple[Pattern, ...] = (
    # credentials
    Pattern("private_key", _PEM_BEGIN, _private_keys),
    _p(
        "api_key",
        r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}"
        r"|xox[abprs]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{35}|hf_[A-Za-z0-9]{30,})\b",
    ),
    _p("api_key", r"(?P<keep>\bBearer\s+)[A-Za-z0-9\-._~+/]{16,}=*"),
    _p(
        "api_key",
        r"(?P<keep>\b(?:api[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]{6,}",
        re.IGNORECASE,
    ),
    # secrets in network device configurations (Cisco-style and friends)
    _p(
        "password",
        r"(?P<keep>\b(?:password|secret|key|key-string|authentication-key|pre-shared-key|md5)"
        r"\s+[0-9]\s+)\S+",
        re.IGNORECASE,
    ),
    _p(
        "password",
        r"(?P<keep>^[ \t]*(?:enable[ \t]+)?(?:password|secret|key-string|pre-shared-key)[ \t]+)"
        r"(?![0-9][ \t]|\[REDACTED)\S+",
        _CFG,
    ),
    _p(
        "password",
        r"(?P<keep>\busername\s+\S+\s+(?:privilege\s+\d+\s+)?(?:password|secret)\s+)"
        r"(?![0-9]\s|\[REDACTED)\S+",
        re.IGNORECASE,
    ),
    _p(
        "password",
        r"(?P<keep>\b(?:crypto\s+isakmp\s+key|(?:tacacs|radius)-server\s+(?:host\s+\S+\s+)?key)\s+)"
        r"(?![0-9]\s|\[REDACTED)\S+",
        re.IGNORECASE,
    ),
    _p("password", r"(?P<keep>\bsnmp-server\s+community\s+)\S+", re.IGNORECASE),
    _p(
        "password",
        r"(?P<keep>\b(?:password|passwd|pwd|secret)[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED)[^\s\"',;]+",
        re.IGNORECASE,
    ),
    # personal data
    Pattern("email", re.compile(r"[A-Za-z0-9._%+\-]@[A-Za-z0-9\-]"), _emails),
    _p("credit_card", r"\b(?:\d[ \-]?){12,18}\d\b"),
    _p(
        "phone",
        r"(?<![\w.\-+])(?:(?:\+\d{1,3}[\s.\-]?(?:\(\d{1,4}\)[\s.\-]?)?|\(\d{2,4}\)[\s.\-]?)"
        r"\d{2,4}[\s.\-]?\d{3,4}(?:[\s.\-]?\d{3,4})?|\d{3}[\s.\-]\d{3}[\s.\-]\d{4})(?![\w.\-])",
    ),
    # network data (off unless asked)
    _p(
        "ip_address",
        r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:/\d{1,2})?\b",
    ),
    _p(
        "mac_address",
        r"\b(?:[0-9A-Fa-f]{2}[:\-]){5}[0-9A-Fa-f]{2}\b|\b(?:[0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}\b",
    ),
)

SECRET_TYPES = frozenset({"private_key", "api_key", "password"})
"""Types that are credentials (always redacted from logs)."""


def luhn_ok(number: str) -> bool:
    """Whether a card-like digit string passes the Luhn checksum (filters out serials, dates)."""
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@functools.cache
def _prefilter(types: frozenset[str]) -> re.Pattern[str] | None:
    """One regex matching wherever any pattern of ``types`` could match (a cheap first pass)."""
    parts = []
    for pattern in PATTERNS:
        if pattern.type in types:
            flags = "".join(
                f
                for f, bit in (("i", re.IGNORECASE), ("m", re.MULTILINE))
                if pattern.regex.flags & bit
            )
            body = pattern.regex.pattern.replace("(?P<keep>", "(?:")
            parts.append(f"(?{flags}:{body})" if flags else f"(?:{body})")
    return re.compile("|".join(parts)) if parts else None


def redact(
    text: str, types: Iterable[str], placeholder: str = "[REDACTED:{type}]"
) -> tuple[str, list[str]]:
    """Replace every match of the given types; returns the text and the types found (in order)."""
    wanted = frozenset(types)
    quick = _prefilter(wanted)
    if quick is None or not quick.search(text):
        return text, []
    found: list[str] = []
    for pattern in PATTERNS:
        if pattern.type not in wanted or not pattern.regex.search(text):
            continue
        replacement = placeholder.format(type=pattern.type)
        pieces: list[str] = []
        done = 0
        for start, keep_end, end in pattern.spans(text):
            if pattern.type == "credit_card" and not luhn_ok(text[start:end]):
                continue
            found.append(pattern.type)
            pieces += (text[done:keep_end], replacement)
            done = end
        if pieces:
            text = "".join(pieces) + text[done:]
    return text, found
