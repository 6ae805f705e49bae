"""The settings accessor."""

from __future__ import annotations

import os
from unittest import mock

from django.test import SimpleTestCase, override_settings

from aiops_core.errors import UserError
from aiops_nautobot.settings import get_settings


def plugin_config(**values):
    return override_settings(PLUGINS_CONFIG={"aiops_nautobot": values})


@mock.patch.dict(os.environ, {}, clear=False)
class GetSettingsTest(SimpleTestCase):
    def setUp(self):
        os.environ.pop("AIOPS_ENVIRONMENT", None)

    def test_defaults(self):
        with (
            plugin_config(),
            override_settings(CACHES={"default": {"LOCATION": "redis://:pw@cache.example:6380/1"}}),
        ):
            s = get_settings()
        self.assertEqual(
            (s.chat_session_ttl_minutes, s.request_timeout_seconds, s.max_steps, s.environment),
            (5, 120, 20, "LAB"),
        )
        self.assertEqual(s.checkpoint_url, "redis://:pw@cache.example:6380/2")
        self.assertNotIn("pw", repr(s))

    def test_configured_values(self):
        with plugin_config(max_steps=7, checkpoint_url="redis://r:6379/5", environment="nonprod"):
            s = get_settings()
        self.assertEqual(
            (s.max_steps, s.checkpoint_url, s.environment), (7, "redis://r:6379/5", "NONPROD")
        )

    def test_parsed_once_per_configuration(self):
        with plugin_config(max_steps=7):
            first = get_settings()
            self.assertIs(get_settings(), first)  # the same configuration: not parsed again
        with plugin_config(max_steps=8):
            self.assertEqual(get_settings().max_steps, 8)  # a changed value is read
        with plugin_config(max_steps=7):
            with mock.patch.dict(os.environ, {"AIOPS_ENVIRONMENT": "PROD"}):
                self.assertEqual(get_settings().environment, "PROD")
            self.assertEqual(get_settings().environment, first.environment)
        with plugin_config(max_steps=0), self.assertRaises(UserError):
            get_settings()  # a mistake is reported on every call, never remembered

    def test_environment_variable_wins(self):
        os.environ["AIOPS_ENVIRONMENT"] = "PROD"
        with plugin_config(environment="LAB"):
            self.assertEqual(get_settings().environment, "PROD")

    def test_mistakes_name_the_key(self):
        cases = {
            "max_steps": {"max_steps": 0},
            "request_timeout_seconds": {"request_timeout_seconds": "soon"},
            "environment": {"environment": "STAGING"},
            "unknown keys": {"max_step": 3},
        }
        for needle, values in cases.items():
            with (
                self.subTest(needle),
                plugin_config(**values),
                self.assertRaises(UserError) as caught,
            ):
                get_settings()
            self.assertIn(needle, str(caught.exception))
