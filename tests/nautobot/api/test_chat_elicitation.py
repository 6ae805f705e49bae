"""Elicitation through the chat API: a real MCP server asks the user mid-call, in real Nautobot.

The server is the features server of ``tests/mcp_servers`` over stdio; its ``ask`` tool asks for
contact details (``name`` required; ``team``, ``pager``, ``level`` with defaults) and returns
what it got, and ``change`` asks two questions in one call.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from django.urls import reverse
from nautobot.apps.testing import APITestCase

from aiops_nautobot.models import MCPServer, MCPTool

from ..engine_fixtures import app_settings, offline_model

CHAT_PERMISSION = "aiops_nautobot.use_chat_conversation"
FEATURES = Path(__file__).resolve().parents[2] / "mcp_servers" / "features_stdio.py"


def features_settings():
    from django.conf import settings

    commands = dict(settings.AIOPS_TEST_CONFIG["stdio_commands"])
    commands["feat"] = {"argv": [sys.executable, str(FEATURES)]}
    return app_settings(checkpoint_url="memory://", stdio_commands=commands)


def tool_answer(call):
    """What the ``ask`` tool returned (its text block follows the structured result)."""
    return json.loads(call["result"].splitlines()[-1])


class ChatElicitationTest(APITestCase):
    """A server's question pauses the turn; the answer given through the API reaches it."""

    def setUp(self):
        super().setUp()
        self.settings_override = features_settings()
        self.settings_override.enable()
        self.addCleanup(self.settings_override.disable)
        self.add_permissions(CHAT_PERMISSION)
        server = MCPServer.objects.create(
            name="feat", status="healthy", protocol="stdio", command_name="feat"
        )
        # The tool catalog refuses writable tools nobody reviewed: an admin marked these two
        # read-only (the server does not annotate them).
        for name in ("ask", "change"):
            MCPTool.objects.create(server=server, name=name, access="read_only")

    def post(self, name, **body):
        url = reverse(f"plugins-api:aiops_nautobot-api:{name}")
        return self.client.post(url, body, format="json", **self.header)

    def paused(self, tool="ask"):
        offline_model(call_tools=[tool])
        data = self.post("chat", message="Who is on call?").json()
        self.assertEqual(data["status"], "pending_approval", data)
        [pending] = data["pending_approval"]
        self.assertEqual(pending["name"], tool)
        return data, pending

    def answer(self, data, call_id, answer):
        return self.post(
            "chat-approve",
            thread_id=data["thread_id"],
            pause_id=data["pause_id"],
            answers={call_id: answer},
        )

    def test_the_question_is_shown_and_the_accepted_answer_reaches_the_server(self):
        data, pending = self.paused()
        question = pending["question"]
        self.assertEqual(question["server"], "feat")
        self.assertTrue(question["message"])
        schema = question["requested_schema"]
        self.assertEqual(schema["required"], ["name"])
        self.assertEqual(set(schema["properties"]), {"name", "team", "pager", "level"})

        response = self.answer(
            data, pending["id"], {"action": "accept", "content": {"name": "Ada"}}
        )
        self.assertHttpStatus(response, 200)
        done = response.json()
        self.assertEqual((done["status"], done["pending_approval"]), ("completed", []))
        [call] = done["tool_calls"]
        # The server got the answer, with the schema's defaults filled in.
        self.assertEqual(
            tool_answer(call),
            {
                "action": "accept",
                "data": {"name": "Ada", "team": "netops", "pager": True, "level": 2},
            },
        )

    def test_declining_tells_the_server_no(self):
        data, pending = self.paused()
        response = self.answer(data, pending["id"], {"action": "decline"})
        self.assertHttpStatus(response, 200)
        [call] = response.json()["tool_calls"]
        self.assertEqual(tool_answer(call), {"action": "decline", "data": None})

    def test_an_answer_that_does_not_fit_the_form_is_a_400_naming_the_field(self):
        data, pending = self.paused()
        call_id = pending["id"]
        response = self.answer(
            data, call_id, {"action": "accept", "content": {"name": "Ada", "level": "high"}}
        )
        self.assertHttpStatus(response, 400)
        detail = response.json()["detail"]
        self.assertIn(f"answers.{call_id}.content", detail)
        self.assertIn("level", detail)
        response = self.answer(data, call_id, {"action": "accept", "content": {}})
        self.assertHttpStatus(response, 400)
        self.assertIn("'name' is a required property", response.json()["detail"])
        response = self.answer(data, call_id, {"action": "maybe"})
        self.assertHttpStatus(response, 400)
        self.assertIn("action", response.json()["detail"])
        response = self.answer(data, "other-call", {"action": "decline"})
        self.assertHttpStatus(response, 400)
        # None of that used the pause up: a good answer still resumes the turn.
        response = self.answer(data, call_id, {"action": "cancel"})
        self.assertHttpStatus(response, 200)
        [call] = response.json()["tool_calls"]
        self.assertEqual(tool_answer(call)["action"], "cancel")

    def test_a_second_question_in_the_same_call_pauses_again(self):
        data, pending = self.paused("change")
        self.assertIn("Who approves", pending["question"]["message"])
        response = self.answer(data, pending["id"], {"action": "accept", "content": {"name": "Bo"}})
        again = response.json()
        self.assertEqual(again["status"], "pending_approval", again)
        [second] = again["pending_approval"]
        self.assertIn("really change", second["question"]["message"])
        self.assertEqual(second["question"]["requested_schema"]["required"], ["go"])
        response = self.answer(again, second["id"], {"action": "accept", "content": {"go": True}})
        done = response.json()
        self.assertEqual(done["status"], "completed", done)
        [call] = done["tool_calls"]
        self.assertIn("changed, approved by Bo", call["result"])
