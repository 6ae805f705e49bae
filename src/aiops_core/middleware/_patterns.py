"""Patterns of sensitive data: personal data, credentials, and secrets in device configurations.

Each pattern has a name (the type a user turns on or off) and, where only part of a match is
secret, a ``keep`` group: the keyword before the secret stays readable
(``snmp-server community [REDACTED:password] RO``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["PATTERNS", "SECRET_TYPES", "Pattern", "luhn_ok", "redact"]


@dataclass(frozen=True, slots=True)
class Pattern:
    """A named regex; group ``keep`` (when present) is left visible, the rest is replaced."""

    type: str
    regex: re.Pattern[str]


def _p(type_: str, regex: str, flags: int = 0) -> Pattern:
    return Pattern(type_, re.compile(regex, flags))


_CFG = re.IGNORECASE | re.MULTILINE
PATTERNS: tuple[Pattern, ...] = (
    # credentials
    _p(
        "private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
    ),
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
    _p("email", r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"),
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

        def sub(match: re.Match[str], pattern: Pattern = pattern) -> str:
            if pattern.type == "credit_card" and not luhn_ok(match.group(0)):
                return match.group(0)
            found.append(pattern.type)
            keep = match.groupdict().get("keep") or ""
            return keep + placeholder.format(type=pattern.type)

        text = pattern.regex.sub(sub, text)
    return text, found
