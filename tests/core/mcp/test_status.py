"""Reconnect backoff and the status snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

from aiops_core.mcp import Backoff, ServerState, ServerStatus


def test_backoff_grows_exponentially_up_to_the_cap():
    backoff = Backoff(initial=1.0, maximum=10.0, factor=2.0, jitter=0.0)
    assert [backoff.delay(n) for n in (1, 2, 3, 4, 5, 9)] == [1, 2, 4, 8, 10, 10]
    jittered = Backoff(initial=1.0, jitter=0.5)
    assert all(0.5 <= jittered.delay(1) <= 1.5 for _ in range(50))


def test_status_as_dict_is_json_friendly():
    when = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    status = ServerStatus(
        name="time",
        state=ServerState.HEALTHY,
        transport="stdio",
        type="internal",
        tool_count=2,
        last_error=None,
        last_check=when,
        failures=0,
        connected_since=when,
    )
    assert status.as_dict() == {
        "name": "time",
        "state": "healthy",
        "transport": "stdio",
        "type": "internal",
        "tool_count": 2,
        "last_error": None,
        "last_check": "2026-11-26T04:00:00+00:00",
        "failures": 0,
        "connected_since": "2026-11-26T04:00:00+00:00",
        "auth_required": False,
    }
