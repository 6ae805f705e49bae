"""Protocol helpers: cursors, times, owner checks, metadata merging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aiops_core.checkpoint.base import (
    ThreadInfo,
    check_owner,
    check_thread_id,
    decode_cursor,
    encode_cursor,
    from_micros,
    merge_metadata,
    to_micros,
    ttl_micros,
)
from aiops_core.errors import ThreadAccessError, UserError


def test_cursor_round_trip_keeps_any_thread_id() -> None:
    for thread_id in ("t1", "a:b:c", "ünï/cødé ✓", ""):
        assert decode_cursor(encode_cursor(1_795_000_000_123_456, thread_id)) == (
            1_795_000_000_123_456,
            thread_id,
        )


@pytest.mark.parametrize("cursor", ["@@", "bm90LWEtbnVtYmVyOng", "%%%"])
def test_bad_cursors(cursor: str) -> None:
    with pytest.raises(UserError, match="cursor"):
        decode_cursor(cursor)


def test_micros_round_trip() -> None:
    moment = datetime(2026, 11, 26, 3, 55, 44, 299812, tzinfo=UTC)
    assert from_micros(to_micros(moment)) == moment
    assert ttl_micros(timedelta(minutes=1)) == ttl_micros(60) == 60_000_000
    assert ttl_micros(None) is None
    with pytest.raises(UserError):
        ttl_micros(-1)


def test_owner_rules() -> None:
    owned = ThreadInfo("t", owner="alice")
    check_owner(owned, "alice")
    check_owner(owned, None)
    check_owner(ThreadInfo("t"), "bob")
    with pytest.raises(ThreadAccessError, match="'t'"):
        check_owner(owned, "bob")


def test_thread_ids() -> None:
    check_thread_id("x" * 255)
    for bad in ("", "x" * 256):
        with pytest.raises(UserError):
            check_thread_id(bad)


def test_merge_metadata_removes_none() -> None:
    assert merge_metadata({"a": 1, "b": 2}, {"b": None, "c": 3}) == {"a": 1, "c": 3}
    assert merge_metadata({"a": 1}, None) == {"a": 1}


def test_info_copy_is_independent() -> None:
    info = ThreadInfo("t", metadata={"a": 1})
    copy = info.copy()
    copy.metadata["a"] = 2
    assert info.metadata == {"a": 1}
