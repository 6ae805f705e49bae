"""Terminal output: colour, a spinner, tables that fit the window, warnings printed once.

Colour and the spinner appear only on a terminal: never when the stream is piped or redirected,
when ``NO_COLOR`` is set (https://no-color.org), or when ``TERM=dumb``. ``FORCE_COLOR`` turns
colour on for a non-terminal (CI logs). Written by hand on the standard library: the CLI needs
a few escape codes, and a terminal library would add its import time to every command.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

__all__ = ["Spinner", "Term", "format_table", "wants_colour"]

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def wants_colour(stream: TextIO) -> bool:
    """Whether to colour ``stream`` (see the module docstring for the rules)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return _is_tty(stream) and os.environ.get("TERM") != "dumb"


class Spinner:
    """A one-line spinner on a terminal's stderr; invisible elsewhere.

    ``start(label)`` shows it (or changes its label), ``stop()`` clears the line. Callers stop it
    before writing anything else to the terminal.
    """

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._label = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, label: str) -> None:
        """Show the spinner with ``label`` (a running spinner just changes its label)."""
        self._label = label
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._spin, name="aiops-spinner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Hide the spinner and clear its line."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join()
        with self._lock:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def _spin(self) -> None:
        index = 0
        while not self._stop.wait(0.08 if index else 0.25):  # no flicker for instant answers
            with self._lock:
                frame = _FRAMES[index % len(_FRAMES)]
                self.stream.write(f"\r\x1b[2K\x1b[2m{frame} {self._label}\x1b[0m")
                self.stream.flush()
            index += 1


class Term:
    """Styled output on stdout and stderr, following the rules of the module docstring."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.colour_out = wants_colour(self.out)
        self.colour_err = wants_colour(self.err)
        self.spinner = Spinner(self.err, self.colour_err and _is_tty(self.err))
        self._warned: set[str] = set()

    @property
    def interactive(self) -> bool:
        """Whether a person is at the keyboard (stdin and stdout are terminals)."""
        return _is_tty(sys.stdin) and _is_tty(self.out)

    def style(self, text: str, *styles: str, stream: TextIO | None = None) -> str:
        """``text`` wrapped in the escape codes of ``styles`` when the stream gets colour."""
        coloured = self.colour_err if stream is self.err else self.colour_out
        if not coloured or not styles:
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def note(self, text: str, *styles: str) -> None:
        """A line on stderr (progress, usage, hints)."""
        self.spinner.stop()
        self.err.write(self.style(text, *(styles or ("dim",)), stream=self.err) + "\n")
        self.err.flush()

    def warn(self, text: str) -> None:
        """A warning on stderr, at most once per process for the same text."""
        if text in self._warned:
            return
        self._warned.add(text)
        self.spinner.stop()
        self.err.write(self.style(f"warning: {text}", "yellow", stream=self.err) + "\n")
        self.err.flush()

    def error(self, text: str) -> None:
        """An error line on stderr."""
        self.spinner.stop()
        self.err.write(self.style(f"error: {text}", "red", stream=self.err) + "\n")
        self.err.flush()

    @contextmanager
    def spinning(self, label: str) -> Iterator[None]:
        """Show the spinner while the block runs."""
        self.spinner.start(label)
        try:
            yield
        finally:
            self.spinner.stop()

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Print a table to stdout; the last column wraps to the terminal's width."""
        print(format_table(header, rows, self.style), file=self.out)


def format_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    style: object = None,
    width: int | None = None,
) -> str:
    """Rows aligned in columns; the last column wraps within ``width`` (default: terminal's)."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    table = [list(header), *[list(r) for r in rows]]
    count = len(header)
    widths = [max(len(r[i]) for r in table) for i in range(count - 1)]
    indent = sum(widths) + 2 * (count - 1)
    room = max(width - indent, 30)
    lines = []
    for index, row in enumerate(table):
        head = "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=False))
        tail = textwrap.wrap(row[-1], room) or [""]
        first = f"{head}  {tail[0]}".rstrip() if count > 1 else tail[0]
        if index == 0 and callable(style):
            first = style(first, "bold")
        lines.append(first)
        lines.extend((" " * indent + more).rstrip() for more in tail[1:])
    return "\n".join(lines)
