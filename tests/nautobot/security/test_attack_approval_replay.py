"""Attack 5: run a tool call that was never approved.

Before: approvals were keyed by call id alone and stayed valid for the whole resumed run, so a
later call reusing the id ran unpaused; two concurrent ``chat/approve/`` requests both ran the
write tool and stored the turn twice.

Now: a decision names the paused run (``pause_id``) and covers each call as paused (id, tool,
arguments) on that resume only. The resume claims the pause atomically before any tool runs, so
of two concurrent approvals one succeeds and the other is a 409, and the tool runs once.

The write tool is ``write_note`` of a real stdio MCP server (``note_server.py``, listed by the
operator as ``notes``) that appends a line to a file each time it runs.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from django.db import connections
from rest_framework.test import APIClient

from aiops_nautobot.models import (
    Conversation,
    LLMMiddleware,
    MCPServer,
    MCPTool,
    MiddlewareType,
)

from ..engine_fixtures import app_settings, load_thread, offline_model
from .attacker import AttackTestCase, AttackTransactionTestCase

CHAT = "aiops_nautobot.use_chat_conversation"
NOTE_SERVER = Path(__file__).with_name("note_server.py")


class ApprovalSetup:
    """A model whose ``write_note`` calls need approval, and the notes server."""

    def setUp(self):
        super().setUp()
        self.notes = self.marker.with_name("notes.log")
        settings = app_settings(
            checkpoint_url="memory://",
            stdio_commands={"notes": {"argv": [sys.executable, str(NOTE_SERVER), str(self.notes)]}},
        )
        settings.enable()
        self.addCleanup(settings.disable)
        model = offline_model(call_tools=["write_note"])
        approval, _ = MiddlewareType.objects.get_or_create(name="tool_approval")
        LLMMiddleware.objects.create(
            llm_model=model, middleware_type=approval, config={"tools": ["write_note"]}
        )
        notes = MCPServer.objects.create(
            name="notes", protocol="stdio", command_name="notes", status="healthy"
        )
        # Past the tool catalog (which refuses writable tools nobody reviewed): what is under
        # attack here is the tool_approval middleware's pause.
        MCPTool.objects.create(server=notes, name="write_note", access="read_only")
        self.add_permissions(CHAT)

    def tearDown(self):
        self.notes.unlink(missing_ok=True)
        super().tearDown()

    def runs(self) -> int:
        """How many times ``write_note`` ran."""
        return len(self.notes.read_text().splitlines()) if self.notes.exists() else 0

    def pause(self, thread_id: str | None = None) -> dict:
        body = {"message": "note this", **({"thread_id": thread_id} if thread_id else {})}
        data = self.api_post("chat", body).json()
        self.assertEqual(data["status"], "pending_approval", data)
        return data

    @staticmethod
    def decision(paused: dict, pause_id: str | None = None) -> dict:
        return {
            "thread_id": paused["thread_id"],
            "pause_id": pause_id or paused["pause_id"],
            "approve": [call["id"] for call in paused["pending_approval"]],
        }


class ApprovalReplayAttackTest(ApprovalSetup, AttackTestCase):
    def test_a_decision_is_used_once(self):
        paused = self.pause()
        self.assertEqual(self.runs(), 0)
        response = self.api_post("chat-approve", self.decision(paused))
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["status"], "completed")
        self.assertEqual(self.runs(), 1)
        response = self.api_post("chat-approve", self.decision(paused))  # replayed
        self.assertHttpStatus(response, 409)
        self.assertEqual(self.runs(), 1)

    def test_a_later_call_reusing_the_id_asks_again(self):
        first = self.pause()
        self.api_post("chat-approve", self.decision(first))
        second = self.pause(first["thread_id"])  # the model calls the tool again
        self.assertEqual(
            [c["name"] for c in second["pending_approval"]],
            [c["name"] for c in first["pending_approval"]],
        )
        self.assertEqual(self.runs(), 1)  # paused, not run on the earlier approval

    def test_a_decision_for_an_earlier_pause_is_refused(self):
        first = self.pause()
        self.api_post("chat-approve", self.decision(first))
        second = self.pause(first["thread_id"])
        stale = self.decision(second, pause_id=first["pause_id"])
        response = self.api_post("chat-approve", stale)
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.json()["error"], "approval_required")
        self.assertEqual(self.runs(), 1)
        self.assertHttpStatus(self.api_post("chat-approve", self.decision(second)), 200)
        self.assertEqual(self.runs(), 2)

    def test_a_decision_needs_the_pause_id(self):
        paused = self.pause()
        body = {key: value for key, value in self.decision(paused).items() if key != "pause_id"}
        response = self.api_post("chat-approve", body)
        self.assertHttpStatus(response, 400)
        self.assertIn("pause_id", response.json()["detail"])
        self.assertEqual(self.runs(), 0)


class ConcurrentApprovalAttackTest(ApprovalSetup, AttackTransactionTestCase):
    def test_two_concurrent_approvals_run_the_tool_once(self):
        paused = self.pause()
        body = self.decision(paused)
        start = threading.Barrier(2)
        answers: list[tuple[int, dict]] = []

        def approve() -> None:
            client = APIClient()
            start.wait()
            try:
                url = self.api_url("chat-approve")
                response = client.post(url, body, format="json", **self.header)
                answers.append((response.status_code, response.json()))
            finally:
                connections.close_all()  # each thread has its own connections; leave none open

        threads = [threading.Thread(target=approve) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(sorted(status for status, _ in answers), [200, 409], answers)
        loser = next(body for status, body in answers if status == 409)
        self.assertIn(loser["error"], ("conflict", "approval_required"))
        self.assertEqual(self.runs(), 1)
        thread = load_thread(paused["thread_id"])
        results = [m for m in thread.messages if m.role == "tool"]
        self.assertEqual(len(results), 1)  # the turn was stored once
        self.assertEqual(Conversation.objects.filter(thread_id=paused["thread_id"]).count(), 1)
