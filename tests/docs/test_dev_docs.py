"""The Python examples of ``docs/dev/internals.md`` run as written, printing what they show."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

import pytest

from aiops_core.middleware import middleware_registry

PAGE = pathlib.Path(__file__).parents[2] / "docs" / "dev" / "internals.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def test_the_page_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index: int) -> None:
    out = io.StringIO()
    with middleware_registry.override(), contextlib.redirect_stdout(out):
        code = compile(BLOCKS[index], f"{PAGE.name}[{index}]", "exec", dont_inherit=True)
        exec(code, {"__name__": "docs"})
    printed = out.getvalue()
    # The outputs the page shows in comments are the ones printed.
    for shown in re.findall(r"print\(.*\)\s+# (.+)", BLOCKS[index]):
        for part in shown.split("..."):
            assert part.strip() in printed, (part, printed)
