"""``POST chat/cancel/`` stops a running streamed turn, which then stores nothing."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.urls import reverse
from nautobot.apps.testing import APITestCase
from nautobot.users.models import ObjectPermission, Token

from aiops_core.providers.registry import provider_registry
from aiops_nautobot.models import Conversation, LLMModel, LLMProvider

from ..engine_fixtures import load_thread, memory_store
from ..scripted_model import ScriptedHandler
from .test_chat import CHAT_PERMISSION


def sse_events(response):
    """``(event, data)`` pairs read from a streaming response as they arrive."""
    buffer = ""
    for chunk in response.streaming_content:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines())
            yield fields["event"], json.loads(fields["data"])


@memory_store
class ChatCancelTest(APITestCase):
    def setUp(self):
        super().setUp()
        registry = provider_registry.override({"scripted": ScriptedHandler})
        registry.__enter__()
        self.addCleanup(registry.__exit__, None, None, None)
        self.add_permissions(CHAT_PERMISSION)
        provider = LLMProvider.objects.create(name="scripted")
        LLMModel.objects.create(provider=provider, name="s", is_default=True, environment="LAB")

    def url(self, name):
        return reverse(f"plugins-api:aiops_nautobot-api:{name}")

    def stream(self, message, thread_id):
        return self.client.post(
            self.url("chat"),
            {"message": message, "thread_id": thread_id, "stream": True},
            format="json",
            **self.header,
        )

    def cancel(self, thread_id, header=None):
        return self.client.post(
            self.url("chat-cancel"),
            {"thread_id": thread_id},
            format="json",
            **(header or self.header),
        )

    def test_a_stopped_turn_ends_with_cancelled_and_stores_nothing(self):
        response = self.stream("a slow answer please", "thread-stop-1")
        self.assertHttpStatus(response, 200)
        seen = []
        for event, _ in sse_events(response):
            seen.append(event)
            if len(seen) == 3:  # the answer is streaming: stop it
                self.assertHttpStatus(self.cancel("thread-stop-1"), 202)
        self.assertEqual(seen[-1], "cancelled")
        self.assertNotIn("final", seen)
        self.assertLess(len(seen), 100)  # long before its 300 words
        self.assertIsNone(load_thread("thread-stop-1"))
        self.assertFalse(Conversation.objects.filter(thread_id="thread-stop-1").exists())

    def test_a_stale_stop_request_does_not_stop_the_next_turn(self):
        self.assertHttpStatus(self.cancel("thread-stop-2"), 202)  # nothing running yet
        events = [event for event, _ in sse_events(self.stream("hello", "thread-stop-2"))]
        self.assertEqual(events[-1], "final")
        self.assertEqual(load_thread("thread-stop-2").info.title, "hello")

    def test_another_user_cannot_stop_my_turn(self):
        other = get_user_model().objects.create_user(username="mallory")
        ObjectPermission.objects.get(name=CHAT_PERMISSION).users.add(other)
        header = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=other).key}"}
        response = self.stream("a slow answer please", "thread-stop-3")
        seen = []
        for event, _ in sse_events(response):
            seen.append(event)
            if len(seen) == 3:
                self.assertHttpStatus(self.cancel("thread-stop-3", header), 202)
        self.assertEqual(seen[-1], "final")
        self.assertIsNotNone(load_thread("thread-stop-3"))

    def test_bad_requests(self):
        self.assertHttpStatus(self.cancel("no spaces allowed"), 400)
        self.client.logout()
        response = self.client.post(self.url("chat-cancel"), {"thread_id": "x"}, format="json")
        self.assertIn(response.status_code, (401, 403))
