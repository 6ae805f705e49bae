"""URLs and the operator's URL rules, compared by scheme, host name and port, never by DNS.

A rule is written as a URL: ``https://api.openai.com`` (that host, the scheme's default port),
``https://*.openai.azure.com`` (any subdomain), ``http://127.0.0.1:*`` (any port),
``https://gateway.example.com/llm/`` (only below that path), or ``https://*`` (any host name).

What is compared is what the URL *says*, not what its name resolves to: no DNS lookup happens
here, so the answer cannot change between the check and the connection (DNS rebinding). The price
is that a name on the list is trusted whatever it resolves to. Host names are lower-cased,
IDNA-encoded and stripped of a trailing dot; IP literals are normalised (``0x7f.1`` is
``127.0.0.1``, ``[::ffff:7f00:1]`` is mapped to it too). A wildcard never matches an IP literal
of a private, loopback, link-local or otherwise non-public range, nor ``localhost``: those must be
listed as they are.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["DEFAULT_PORTS", "URL", "URLRule", "is_internal_host", "parse_rule", "parse_url"]

DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
    "redis": 6379,
    "rediss": 6379,
    "redis+sentinel": 26379,
    "rediss+sentinel": 26379,
}
"""Schemes a URL may use here, and the port each implies."""

# Anything a URL parser could read two ways (RFC 3986 allows none of these unescaped).
_UNSAFE = re.compile(r"[\s\\<>\"{}|^`\x00-\x1f\x7f]")
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)
_LOCAL_NAMES = ("localhost", "localhost.localdomain")
_WEB_SCHEMES = ("http", "https", "ws", "wss")
_STAND_IN = "wildcard"  # parses a wildcard pattern's host as a name

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class URL:
    """A URL reduced to what a rule compares."""

    scheme: str
    host: str
    """Lower-case host name, or the normalised text of an IP literal."""
    port: int
    path: str
    ip: IPAddress | None = None

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if self.ip is not None and self.ip.version == 6 else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class URLRule:
    """One allowed URL pattern (see the module docstring for the forms)."""

    text: str
    scheme: str
    host: str
    """``*`` (any name), ``*.example.com`` (subdomains), a name, or a normalised IP literal."""
    port: int | None
    """``None``: any port."""
    path: str
    """Path prefix; empty: any path."""

    def matches(self, url: URL) -> bool:
        """Whether ``url`` is allowed by this rule."""
        if url.scheme != self.scheme or (self.port is not None and url.port != self.port):
            return False
        if not self._host_matches(url):
            return False
        if not self.path:
            return True
        prefix = self.path if self.path.endswith("/") else self.path + "/"
        return url.path == self.path.rstrip("/") or url.path.startswith(prefix)

    def _host_matches(self, url: URL) -> bool:
        if self.host == url.host:
            return True  # named exactly: IP literals and localhost included
        if is_internal_host(url):
            return False  # a wildcard never reaches internal addresses
        if self.host == "*":
            return True
        return self.host.startswith("*.") and url.ip is None and url.host.endswith(self.host[1:])


def is_internal_host(url: URL) -> bool:
    """Whether the URL names ``localhost`` or an IP literal outside the public ranges."""
    if url.ip is None:
        return url.host in _LOCAL_NAMES or url.host.endswith(".localhost")
    ip = url.ip
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global


def parse_url(text: str) -> URL:
    """Read a URL the way a rule compares it.

    Raises:
        ValueError: the URL is malformed, ambiguous, has no host, or uses another scheme than
            those of :data:`DEFAULT_PORTS`; the message says what is wrong.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("enter a URL")
    if _UNSAFE.search(text):
        raise ValueError("a URL may not contain spaces, backslashes or control characters")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(f"use one of the schemes {', '.join(s + '://' for s in DEFAULT_PORTS)}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if (parts.username or parts.password) and scheme in _WEB_SCHEMES:
        raise ValueError("credentials do not belong in the URL: bind a Secret instead")
    host, ip = _host(parts.hostname or "")
    if _DOT_SEGMENT.search(parts.path):
        raise ValueError("a URL path may not contain '.' or '..' segments")
    return URL(scheme, host, port or DEFAULT_PORTS[scheme], parts.path, ip)


def parse_rule(text: str) -> URLRule:
    """Read one allow-list entry.

    Raises:
        ValueError: the entry is not a URL pattern of the documented forms.
    """
    scheme, sep, rest = text.partition("://") if isinstance(text, str) else ("", "", "")
    if not sep:
        raise ValueError(f"{text!r} is not a URL pattern like 'https://api.example.com'")
    authority, slash, path = rest.partition("/")
    any_port = authority.endswith(":*")
    if any_port:
        authority = authority[:-2]
    wildcard = authority.split(":")[0] if authority.startswith("*") else None
    if wildcard is not None:
        if wildcard != "*" and not wildcard.startswith("*."):
            raise ValueError(f"{text!r}: a wildcard is '*' or '*.domain'")
        authority = _STAND_IN + wildcard[1:] + authority[len(wildcard) :]
    url = parse_url(f"{scheme}://{authority}{slash}{path}")
    host = url.host
    if wildcard is not None:
        host = "*" + host[len(_STAND_IN) :] if wildcard != "*" else "*"
    return URLRule(text, url.scheme, host, None if any_port else url.port, url.path.rstrip("/"))


def _host(name: str) -> tuple[str, IPAddress | None]:
    if not name:
        raise ValueError("the URL has no host")
    name = name.lower().rstrip(".")
    try:
        ip: IPAddress = ipaddress.ip_address(name)
    except ValueError:
        ip_text = _legacy_ipv4(name)
        if ip_text is None:
            try:
                return name.encode("idna").decode("ascii"), None
            except UnicodeError:
                raise ValueError(f"{name!r} is not a valid host name") from None
        ip = ipaddress.ip_address(ip_text)
    return ip.compressed, ip


def _legacy_ipv4(name: str) -> str | None:
    """``127.1``, ``2130706433``, ``0x7f.0.0.1``: IPv4 in the forms ``inet_aton`` accepts."""
    if not re.fullmatch(r"[0-9a-fx.]+", name) or not re.match(r"^(0x)?[0-9]", name):
        return None
    try:
        return socket.inet_ntoa(socket.inet_aton(name))
    except OSError:
        return None
