"""The ``native_tools`` setting: defaults, a switch, or a dict of limits; mistakes are named."""

from __future__ import annotations

import pytest

from aiops_core.errors import UserError
from aiops_nautobot.settings import get_settings
from aiops_nautobot.tools import NATIVE_TOOLS_DEFAULTS, NativeToolsConfig, parse_native_tools

from ..engine_fixtures import app_settings

WHERE = "PLUGINS_CONFIG['aiops_nautobot']['native_tools']"


def test_defaults_a_switch_and_limits() -> None:
    assert parse_native_tools(None, where=WHERE) == NativeToolsConfig(**NATIVE_TOOLS_DEFAULTS)
    assert parse_native_tools(False, where=WHERE).enabled is False
    limited = parse_native_tools({"max_rows": 10, "writes": False}, where=WHERE)
    assert (limited.max_rows, limited.writes, limited.enabled) == (10, False, True)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ({"max_row": 10}, "unknown keys ['max_row']"),
        ({"max_rows": 0}, "['max_rows'] must be a positive integer"),
        ({"writes": "yes"}, "['writes'] must be true or false"),
        ("on", "must be true, false or a dict"),
    ],
)
def test_mistakes_name_the_key(value: object, named: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_native_tools(value, where=WHERE)
    assert named in str(caught.value)
    assert WHERE in str(caught.value)


def test_read_through_the_settings_accessor() -> None:
    with app_settings(native_tools={"graphql_max_depth": 3}):
        assert get_settings().native_tools.graphql_max_depth == 3
    with app_settings(native_tools={"bogus": 1}), pytest.raises(UserError):
        get_settings()
