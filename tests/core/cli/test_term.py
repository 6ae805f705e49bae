"""``cli/_term.py``: when to colour, tables that fit the terminal, warnings once."""

from __future__ import annotations

import io

import pytest

from aiops_core.cli._term import Term, format_table, wants_colour


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "env", "expected"),
    [
        (Tty(), {}, True),
        (io.StringIO(), {}, False),  # piped or redirected
        (Tty(), {"NO_COLOR": "1"}, False),
        (Tty(), {"TERM": "dumb"}, False),
        (io.StringIO(), {"FORCE_COLOR": "1"}, True),
        (io.StringIO(), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ],
)
def test_colour_rules(
    monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, env: dict[str, str], expected: bool
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert wants_colour(stream) is expected


def test_the_last_column_wraps_under_itself() -> None:
    text = format_table(
        ("KEY", "DESCRIPTION"),
        [("timeout", "seconds before a request is abandoned, " * 3)],
        width=50,
    )
    lines = text.splitlines()
    assert lines[0] == "KEY      DESCRIPTION"
    assert all(len(line) <= 50 for line in lines[1:])
    assert lines[2].startswith(" " * 9) and lines[2].strip()


def test_a_warning_is_printed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    out, err = io.StringIO(), io.StringIO()
    term = Term(out, err)
    for _ in range(3):
        term.warn("cache bypassed")
    term.warn("another")
    assert err.getvalue() == "warning: cache bypassed\nwarning: another\n"
    assert term.style("x", "red") == "x"  # no colour into a StringIO
