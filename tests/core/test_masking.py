"""``masking.py``: the one mask, secret names, URL masking and the scrubber."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest

from aiops_core.masking import MASK, Scrubber, is_secret_name, mask_url, mask_values, scrub


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apiKey",
        "APIKEY",
        "X-API-Key",
        "x-goog-api-key",
        "Authorization",
        "Proxy-Authorization",
        "X-Auth-Token",
        "auth_token",
        "accessToken",
        "PRIVATE-TOKEN",
        "password",
        "db_password",
        "client_secret",
        "SECRET_KEY",
        "Cookie",
        "Set-Cookie",
        "Ocp-Apim-Subscription-Key",
        "aws_access_key_id",
        "credentials",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    ["max_tokens", "key_prefix", "url", "model", "tokenizer", "X-Tenant", "keep_alive", "author"],
)
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:pw@h:1/2", "redis://***@h:1/2"),
        ("postgresql://u:pw@h/db?x=1", "postgresql://***@h/db?x=1"),
        ("sqlite:////tmp/a.db", "sqlite:////tmp/a.db"),
        ("sqlite:///with@sign.db", "sqlite:///with@sign.db"),
        ("redis://secret@host", "redis://***@host"),  # redis-py's password-only form
        ("redis://:pa/ss@host:6379/2", "redis://***@host:6379/2"),  # an unescaped "/"
        ("unix://u:p@/run/redis.sock?db=2", "unix://***@/run/redis.sock?db=2"),
        ("https://h/mcp?token=abc&tenant=ops", "https://h/mcp?token=***&tenant=ops"),
        ("memory://", "memory://"),
        ("not a url", "not a url"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_values_masks_secret_names_and_url_passwords_at_any_depth() -> None:
    data = {
        "api_key": "sk-1",
        "max_tokens": 5,
        "url": "redis://:pw@cache:6379/0",
        "nested": {"auth": ["a", "b"], "tokens": [1, 2], "label": "ops"},
        "empty_password": "",
    }
    assert mask_values(data) == {
        "api_key": MASK,
        "max_tokens": 5,
        "url": "redis://***@cache:6379/0",
        "nested": {"auth": [MASK, MASK], "tokens": [1, 2], "label": "ops"},
        "empty_password": "",
    }


def test_scrub_replaces_the_value() -> None:
    assert scrub("key sk-abcdef rejected", "sk-abcdef") == f"key {MASK} rejected"
    assert scrub("nothing here", "sk-abcdef") == "nothing here"
    assert scrub("a b", "a") == "a b"  # too short to be a key: left alone
    assert scrub("text", None) == "text"


KEY = "sk-test-secret\n"


@pytest.mark.parametrize(
    "quoted",
    [
        KEY,
        KEY.strip(),
        repr(KEY),
        repr(KEY.encode()),
        f"Illegal header value b'Bearer {KEY.strip()}\\n'",
        json.dumps(KEY),
        json.dumps({"authorization": f"Bearer {KEY}"}),
        quote(KEY, safe=""),
        quote_plus(KEY),
        repr(f"  {KEY}  "),
    ],
)
def test_scrub_catches_escaped_and_repr_forms(quoted: str) -> None:
    clean = Scrubber([KEY])(f"error: {quoted} (end)")
    assert "sk-test-secret" not in clean
    assert MASK in clean and clean.startswith("error: ") and clean.endswith(" (end)")


def test_scrub_leaves_no_escape_characters_behind() -> None:
    assert Scrubber([KEY])("b'Bearer sk-test-secret\\n'") == f"b'Bearer {MASK}'"


def test_scrubber_finds_secrets_in_exception_chains_and_groups() -> None:
    scrubber = Scrubber([KEY])
    try:
        try:
            raise ValueError(f"Illegal header value {KEY.encode()!r}")
        except ValueError as inner:
            raise RuntimeError("Connection error.") from inner
    except RuntimeError as outer:
        chained = outer
    assert scrubber.leaks(chained)
    assert scrubber.leaks(ExceptionGroup("many", [ValueError("ok"), ValueError(KEY)]))
    assert not scrubber.leaks(RuntimeError("Connection error."))
    assert not Scrubber([]).leaks(chained)


def test_scrubber_repr_hides_the_secrets() -> None:
    scrubber = Scrubber(["sk-abcdef"])
    assert "sk-abcdef" not in repr(scrubber)
    assert bool(scrubber) and not Scrubber([None, "", "ab"])
