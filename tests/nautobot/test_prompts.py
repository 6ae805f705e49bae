"""The system prompt placeholder renderer."""

from __future__ import annotations

from django.test import SimpleTestCase

from aiops_nautobot.prompts import PLACEHOLDERS, render_prompt


class RenderPromptTest(SimpleTestCase):
    def test_known_placeholders_replaced(self):
        values = {name: f"<{name}>" for name in PLACEHOLDERS}
        text = " ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        self.assertEqual(render_prompt(text, values), " ".join(values.values()))

    def test_other_braces_untouched(self):
        text = '{"user": "{user}"} {{ user }} {{user}} {unknown} {user!r} {'
        self.assertEqual(
            render_prompt(text, {"user": "ana"}),
            '{"user": "ana"} {{ user }} {{user}} {unknown} {user!r} {',
        )

    def test_missing_values_leave_placeholder(self):
        self.assertEqual(
            render_prompt("{model_name}/{provider}", {"provider": "x"}), "{model_name}/x"
        )
