"""Capping tool results: the start is kept, a marker says what was cut."""

from __future__ import annotations

import json

from aiops_core.messages import DataPart, ImagePart, TextPart
from aiops_core.truncation import content_size, truncate_content, truncate_text


def test_text_that_fits_is_unchanged_and_long_text_is_cut_with_a_marker() -> None:
    assert truncate_text("short", 10) == "short"
    cut = truncate_text("a" * 25_000, 20_000)
    assert cut.startswith("a" * 20_000 + "\n[truncated:")
    assert "had 25,000 characters; 5,000 were cut" in cut
    assert "max_tool_result_chars=20,000" in cut
    assert truncate_content("a" * 30, 10) == truncate_text("a" * 30, 10)


def test_parts_are_counted_as_the_model_gets_them() -> None:
    parts = [
        TextPart(text="abc"),
        DataPart(data={"k": [1, 2]}),
        ImagePart(data="QUJD", media_type="image/png"),
        ImagePart(url="https://example.invalid/x.png"),
    ]
    assert content_size(parts) == 3 + len('{"k":[1,2]}') + 4 + len("https://example.invalid/x.png")
    assert truncate_content(parts, 1_000) == parts


def test_a_part_that_does_not_fit_is_cut_and_the_rest_dropped() -> None:
    data = {"rows": list(range(100))}
    parts = [TextPart(text="x" * 10), DataPart(data=data), TextPart(text="never")]
    cut = truncate_content(parts, 30)
    assert isinstance(cut, list) and len(cut) == 3
    assert cut[0] == TextPart(text="x" * 10)
    assert cut[1] == TextPart(text=json.dumps(data, separators=(",", ":"))[:20])
    assert isinstance(cut[2], TextPart) and cut[2].text.startswith("[truncated:")
    total = 10 + len(json.dumps(data, separators=(",", ":"))) + 5
    assert f"had {total:,} characters; {total - 30:,} were cut" in cut[2].text


def test_an_image_that_does_not_fit_is_replaced_by_a_note() -> None:
    cut = truncate_content([TextPart(text="see"), ImagePart(data="A" * 500)], 100)
    assert isinstance(cut, list)
    assert [p.text for p in cut if isinstance(p, TextPart)][1] == (
        "[image image/png of 500 characters omitted]"
    )
    assert not any(isinstance(p, ImagePart) for p in cut)
    assert "503 characters; 500 were cut" in cut[-1].text  # type: ignore[union-attr]
