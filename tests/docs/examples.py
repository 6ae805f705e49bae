"""Find the code blocks of the README and the documentation pages.

A block is a fenced block at the start of a line. The HTML comment on the line just before it,
if any, is its note: ``not-run: why`` keeps it from running, ``file: NAME`` writes a TOML
block to ``NAME`` for the page's later commands, any other word names the block for a test
that checks its output (``custom-handler``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

_BLOCK = re.compile(
    r"^(?:<!--\s*(?P<note>[^\n]*?)\s*-->\n)?```(?P<lang>[\w-]*)\n(?P<code>.*?)^```\s*$", re.S | re.M
)


@dataclass(frozen=True)
class Block:
    """One fenced code block."""

    page: Path
    line: int
    lang: str
    code: str
    note: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        return not self.note.startswith("not-run")

    @property
    def file(self) -> str | None:
        return self.note.removeprefix("file:").strip() if self.note.startswith("file:") else None


def blocks(page: Path) -> list[Block]:
    """The page's code blocks, in order."""
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        note = match.group("note") or ""
        found.append(Block(page, line, match.group("lang"), match.group("code"), note))
    return found


def example(marker: str) -> Block:
    """The block named by ``<!-- marker -->`` in any page."""
    for page in PAGES:
        for block in blocks(page):
            if block.note == marker:
                return block
    raise AssertionError(f"no page has the {marker!r} example any more")
