"""The chat endpoint in a real Nautobot, with the ``test`` model and a real MCP server."""

from __future__ import annotations

import json
import os
from unittest import mock

from django.contrib.auth import get_user_model
from django.urls import reverse
from nautobot.apps.testing import APITestCase
from nautobot.users.models import ObjectPermission, Token

from aiops_nautobot.models import Conversation, LLMMiddleware, MiddlewareType
from tests.conftest import REDIS_PORT, require_service

from ..engine_fixtures import app_settings, load_thread, memory_store, offline_model, time_server

CHAT_PERMISSION = "aiops_nautobot.use_chat_conversation"


def parse_sse(body: bytes) -> list[tuple[str, dict]]:
    """``[(event, data), ...]`` of a server-sent-events body."""
    events = []
    for block in body.decode().split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


@memory_store
class ChatApprovalTest(APITestCase):
    """A turn paused by ``tool_approval`` is approved or rejected through the API."""

    def setUp(self):
        super().setUp()
        self.add_permissions(CHAT_PERMISSION)
        model = offline_model(call_tools=["get_current_time"])
        approval, _ = MiddlewareType.objects.get_or_create(
            name="tool_approval", defaults={"is_builtin": True}
        )
        LLMMiddleware.objects.create(
            llm_model=model,
            middleware_type=approval,
            config={"tools": ["get_current_time"]},
            priority=25,
        )
        time_server()

    def post(self, name, **body):
        url = reverse(f"plugins-api:aiops_nautobot-api:{name}")
        return self.client.post(url, body, format="json", **self.header)

    def paused_turn(self):
        data = self.post("chat", message="What time is it?").json()
        self.assertEqual(data["status"], "pending_approval")
        [pending] = data["pending_approval"]
        self.assertEqual(pending["name"], "get_current_time")
        self.assertIn("needs approval", pending["reason"])
        self.pause_id = data["pause_id"]
        return data["thread_id"], pending["id"]

    def test_approved_call_runs_and_the_turn_completes(self):
        thread_id, call_id = self.paused_turn()
        response = self.post("chat", message="and now?", thread_id=thread_id)
        self.assertHttpStatus(response, 409)
        self.assertEqual(response.json()["error"], "approval_required")
        response = self.post(
            "chat-approve", thread_id=thread_id, pause_id=self.pause_id, approve=[call_id]
        )
        self.assertHttpStatus(response, 200)
        data = response.json()
        self.assertEqual((data["status"], data["pending_approval"]), ("completed", []))
        [call] = data["tool_calls"]
        # It reached the real server: the test model's dummy argument is not a known time zone.
        self.assertIn("Invalid timezone", call["result"])
        self.assertNotIn("rejected", data["output"])

    def test_rejected_call_reaches_the_model_as_an_error(self):
        thread_id, call_id = self.paused_turn()
        data = self.post(
            "chat-approve", thread_id=thread_id, pause_id=self.pause_id, reject=[call_id]
        ).json()
        self.assertEqual(data["status"], "completed")
        self.assertIn("rejected by the user", data["output"])

    def test_bad_decisions_and_other_users_threads_are_refused(self):
        thread_id, call_id = self.paused_turn()
        response = self.post(
            "chat-approve", thread_id=thread_id, pause_id=self.pause_id, approve=["nope"]
        )
        self.assertHttpStatus(response, 409)
        response = self.post("chat-approve", thread_id=thread_id, pause_id=self.pause_id)
        self.assertHttpStatus(response, 400)
        response = self.post("chat-approve", thread_id=thread_id, approve=[call_id])
        self.assertHttpStatus(response, 400)
        self.assertIn("pause_id", response.json()["detail"])
        other = get_user_model().objects.create_user(username="oscar")
        ObjectPermission.objects.get(name=CHAT_PERMISSION).users.add(other)
        token = Token.objects.create(user=other)
        url = reverse("plugins-api:aiops_nautobot-api:chat-approve")
        response = self.client.post(
            url,
            {"thread_id": thread_id, "pause_id": self.pause_id, "approve": [call_id]},
            format="json",
            HTTP_AUTHORIZATION=f"Token {token.key}",
        )
        self.assertHttpStatus(response, 404)


@memory_store
class ChatAPITest(APITestCase):
    """The chat endpoint as an API client sees it."""

    def setUp(self):
        super().setUp()
        self.url = reverse("plugins-api:aiops_nautobot-api:chat")
        self.add_permissions(CHAT_PERMISSION)

    def chat(self, header=None, **body):
        return self.client.post(self.url, body, format="json", **(header or self.header))

    def test_round_trip_with_a_real_mcp_server(self):
        model = offline_model(call_tools=["get_current_time"])
        time_server()
        response = self.chat(message="What time is it?")
        self.assertHttpStatus(response, 200)
        data = response.json()
        self.assertEqual(data["status"], "completed")
        self.assertEqual(data["model"], "test:assistant")
        [call] = data["tool_calls"]
        self.assertEqual(call["name"], "get_current_time")
        self.assertIn(
            "result", call
        )  # the real server answered (the test model's argument is a dummy)
        self.assertIn("get_current_time", data["output"])
        self.assertGreater(data["usage"]["requests"], 1)
        conversation = Conversation.objects.get(thread_id=data["thread_id"])
        self.assertEqual(conversation.owner, self.user)
        self.assertEqual(conversation.llm_model, model)
        # The change-logged record holds no message text; the store keeps it as the title.
        self.assertTrue(conversation.title.startswith("Conversation of "))
        thread = load_thread(data["thread_id"])
        self.assertEqual(thread.info.title, "What time is it?")
        self.assertEqual(thread.info.owner, str(self.user.pk))
        self.assertEqual(thread.messages[0].text, "What time is it?")

    def test_a_thread_continues_with_its_history(self):
        offline_model()
        first = self.chat(message="first").json()
        before = Conversation.objects.get(thread_id=first["thread_id"]).last_activity
        second = self.chat(message="second", thread_id=first["thread_id"]).json()
        self.assertEqual(second["thread_id"], first["thread_id"])
        thread = load_thread(first["thread_id"])
        users = [m.text for m in thread.messages if m.role == "user"]
        self.assertEqual(users, ["first", "second"])
        self.assertEqual(Conversation.objects.filter(thread_id=first["thread_id"]).count(), 1)
        self.assertGreater(
            Conversation.objects.get(thread_id=first["thread_id"]).last_activity, before
        )

    def test_later_turns_are_activity_not_changes(self):
        from django.contrib.contenttypes.models import ContentType
        from nautobot.extras.models import ObjectChange

        offline_model()
        first = self.chat(message="first").json()
        conversation = Conversation.objects.get(thread_id=first["thread_id"])
        changes = ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(Conversation),
            changed_object_id=conversation.pk,
        )
        self.assertEqual(changes.count(), 1)  # created
        self.chat(message="second", thread_id=first["thread_id"])
        self.chat(message="third", thread_id=first["thread_id"])
        self.assertEqual(changes.count(), 1)  # two more turns: activity, not logged
        conversation.refresh_from_db()
        self.assertGreater(conversation.last_updated, changes.get().time)
        other = offline_model("other", default=False)
        self.add_permissions("aiops_nautobot.view_llmmodel")
        fourth = self.chat(message="fourth", thread_id=first["thread_id"], model=other.name)
        self.assertHttpStatus(fourth, 200)
        conversation.refresh_from_db()
        self.assertEqual(conversation.llm_model, other)
        self.assertEqual(changes.count(), 2)  # the conversation's model changed: logged

    def test_streaming_answers_with_server_sent_events(self):
        offline_model(call_tools=["get_current_time"])
        time_server()
        response = self.chat(message="What time is it?", stream=True)
        self.assertHttpStatus(response, 200)
        self.assertTrue(response["Content-Type"].startswith("text/event-stream"))
        events = parse_sse(b"".join(response.streaming_content))
        names = [name for name, _ in events]
        self.assertEqual(names[0], "tool_call_started")
        self.assertIn("tool_call_finished", names)
        self.assertIn("text", names)
        self.assertEqual(names[-1], "final")
        text = "".join(data["delta"] for name, data in events if name == "text")
        final = events[-1][1]
        self.assertEqual(text, final["output"])
        self.assertTrue(Conversation.objects.filter(thread_id=final["thread_id"]).exists())

    def test_streaming_sends_the_models_thinking_as_thinking_events(self):
        from aiops_nautobot.models import LLMModel, LLMProvider
        from tests.servers.llm import LLMServer, Reply

        with LLMServer() as server, mock.patch.dict(os.environ, {"ANTHROPIC_API_KEY": "sk-x"}):
            server.script(Reply(text="core-sw-01 is up.", thinking="Check it first.", chunk=4))
            provider, _ = LLMProvider.objects.get_or_create(name="anthropic")  # seeded
            provider.config = {"base_url": server.url}
            provider.validated_save()
            LLMModel.objects.create(
                provider=provider,
                name="claude-thinking",
                is_default=True,
                temperature=1.0,
                environment="LAB",
                config={"thinking": 2048},
            )
            response = self.chat(message="Is core-sw-01 up?", stream=True)
            events = parse_sse(b"".join(response.streaming_content))
        self.assertEqual(server.last.body["thinking"], {"type": "enabled", "budget_tokens": 2048})
        names = [name for name, _ in events]
        thinking = [data for name, data in events if name == "thinking"]
        self.assertGreater(len(thinking), 1)
        self.assertEqual("".join(d["delta"] for d in thinking), "Check it first.")
        self.assertEqual({d["index"] for d in thinking}, {0})
        self.assertLess(names.index("thinking"), names.index("text"))  # thinking comes first
        final = events[-1][1]
        self.assertEqual(final["output"], "core-sw-01 is up.")
        self.assertNotIn("Check it first.", final["output"])
        # The thread keeps the signed thinking for the next turn.
        [part] = load_thread(final["thread_id"]).messages[1].thinking
        self.assertEqual((part.text, part.provider), ("Check it first.", "anthropic"))

    def test_accepting_only_an_event_stream_streams(self):
        offline_model(answer="plain answer")
        header = {**self.header, "HTTP_ACCEPT": "text/event-stream"}
        response = self.chat(header=header, message="hi")
        self.assertHttpStatus(response, 200)
        events = parse_sse(b"".join(response.streaming_content))
        self.assertEqual(events[-1][0], "final")
        self.assertEqual(events[-1][1]["output"], "plain answer")

    def test_streaming_reports_errors_in_band(self):
        offline_model(chunk_size=0)  # written around validation: the handler refuses it
        response = self.chat(message="hi", stream="true")
        self.assertHttpStatus(response, 200)  # the status line went out before the failure
        events = parse_sse(b"".join(response.streaming_content))
        self.assertEqual(events, [("error", mock.ANY)])
        error = events[0][1]
        self.assertEqual((error["status"], error["error"]), (503, "not_configured"))
        self.assertIn("chunk_size", error["detail"])
        self.assertFalse(Conversation.objects.exists())

    def test_prod_masks_in_band_errors(self):
        offline_model(chunk_size=0)
        with mock.patch.dict(os.environ, {"AIOPS_ENVIRONMENT": "PROD"}):
            response = self.chat(message="hi", stream="true")
            events = parse_sse(b"".join(response.streaming_content))
        self.assertEqual(events[0][0], "error")
        self.assertNotIn("chunk_size", events[0][1]["detail"])
        self.assertIn("Error id", events[0][1]["detail"])

    def test_a_provider_failure_is_a_502_without_the_key(self):
        import socket

        from nautobot.extras.models import Secret

        from aiops_nautobot.models import LLMModel, LLMProvider

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        provider, _ = LLMProvider.objects.get_or_create(name="openai")
        provider.config = {"base_url": f"http://127.0.0.1:{port}/v1", "max_retries": 0}
        provider.save()
        secret = Secret.objects.create(
            name="openai-key", provider="environment-variable", parameters={"variable": "AIOPS_K"}
        )
        LLMModel.objects.create(
            provider=provider,
            name="gpt-4o-mini",
            is_default=True,
            api_key_secret=secret,
            temperature=0.3,
        )
        with mock.patch.dict(os.environ, {"AIOPS_K": "sk-do-not-leak-123"}):
            response = self.chat(message="hi")
        self.assertHttpStatus(response, 502)
        self.assertEqual(response.json()["error"], "provider_error")
        self.assertNotIn("sk-do-not-leak-123", response.content.decode())

    def test_permission_is_required(self):
        offline_model()
        self.remove_permissions(CHAT_PERMISSION)
        response = self.chat(message="hi")
        self.assertHttpStatus(response, 403)
        self.assertFalse(Conversation.objects.exists())

    def test_anonymous_requests_are_refused(self):
        response = self.client.post(self.url, {"message": "hi"}, format="json")
        self.assertIn(response.status_code, (401, 403))

    def test_bad_input_is_a_400(self):
        offline_model()
        for body in ({}, {"message": ""}, {"message": 5}, {"message": "x", "thread_id": "a b"}):
            with self.subTest(body=body):
                response = self.chat(**body)
                self.assertHttpStatus(response, 400)
                self.assertEqual(response.json()["error"], "bad_request")

    def test_a_body_that_is_not_a_json_object_is_a_400_in_the_apps_shape(self):
        offline_model()
        for url in (self.url, reverse("plugins-api:aiops_nautobot-api:chat-approve")):
            for raw in ('{"message": "unterminated', '["message", "hi"]', "42"):
                with self.subTest(url=url, body=raw):
                    response = self.client.post(
                        url, raw, content_type="application/json", **self.header
                    )
                    self.assertHttpStatus(response, 400)
                    body = response.json()
                    self.assertEqual(set(body), {"error", "detail"})
                    self.assertEqual(body["error"], "bad_request")
                    self.assertIn("JSON object", body["detail"])

    def test_unknown_model_selector_is_the_callers_error(self):
        offline_model()
        response = self.chat(message="hi", model="nope")
        self.assertHttpStatus(response, 400)
        self.assertEqual(response.json()["error"], "bad_request")
        self.assertIn("'nope' matches no model", response.json()["detail"])

    def test_a_model_can_be_chosen_by_name(self):
        offline_model("first")
        offline_model("second", default=False, answer="from second")
        self.add_permissions("aiops_nautobot.view_llmmodel")
        data = self.chat(message="hi", model="test:second").json()
        self.assertEqual(data["output"], "from second")
        # the conversation keeps its model when the next turn names none
        data = self.chat(message="again", thread_id=data["thread_id"]).json()
        self.assertEqual(data["output"], "from second")

    def test_only_the_default_or_a_viewable_model_can_be_chosen(self):
        first = offline_model("first")
        offline_model("second", default=False, answer="from second")
        response = self.chat(message="hi", model="test:second")
        self.assertHttpStatus(response, 400)
        self.assertIn("matches no model", response.json()["detail"])
        data = self.chat(message="hi", model=str(first.pk)).json()
        self.assertEqual(data["model"], "test:first")

    def test_another_users_thread_is_invisible(self):
        offline_model()
        mine = self.chat(message="secret plans").json()
        other = get_user_model().objects.create_user(username="mallory")

        ObjectPermission.objects.get(name=CHAT_PERMISSION).users.add(other)
        other_header = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=other).key}"}
        response = self.chat(header=other_header, message="show me", thread_id=mine["thread_id"])
        self.assertHttpStatus(response, 404)
        self.assertNotIn("secret", response.content.decode())
        # the thread is unchanged and still the first user's
        thread = load_thread(mine["thread_id"])
        self.assertEqual([m.text for m in thread.messages if m.role == "user"], ["secret plans"])
        self.assertEqual(Conversation.objects.get(thread_id=mine["thread_id"]).owner, self.user)

    def test_a_thread_in_the_store_but_without_a_row_keeps_its_owner(self):
        offline_model()
        mine = self.chat(message="secret plans").json()
        other = get_user_model().objects.create_user(username="eve")

        ObjectPermission.objects.get(name=CHAT_PERMISSION).users.add(other)
        # The row is gone (e.g. deleted in bulk) while the store still holds the thread.
        with mock.patch("aiops_nautobot.services.conversations.delete_thread"):
            Conversation.objects.filter(thread_id=mine["thread_id"]).delete()
        header = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=other).key}"}
        response = self.chat(header=header, message="show me", thread_id=mine["thread_id"])
        self.assertHttpStatus(response, 404)

    def test_delete_through_the_api_clears_the_server_side_history(self):
        offline_model()
        self.add_permissions(
            "aiops_nautobot.delete_conversation", "aiops_nautobot.view_conversation"
        )
        data = self.chat(message="forget me").json()
        conversation = Conversation.objects.get(thread_id=data["thread_id"])
        url = reverse(
            "plugins-api:aiops_nautobot-api:conversation-detail", kwargs={"pk": conversation.pk}
        )
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.delete(url, **self.header)
        self.assertHttpStatus(response, 204)
        self.assertFalse(Conversation.objects.filter(pk=conversation.pk).exists())
        self.assertIsNone(load_thread(data["thread_id"]))
        # A new turn on the old id starts from nothing.
        again = self.chat(message="who am I?", thread_id=data["thread_id"]).json()
        thread = load_thread(again["thread_id"])
        self.assertEqual([m.text for m in thread.messages if m.role == "user"], ["who am I?"])

    def test_history_of_own_conversations_only(self):
        offline_model(answer="noted", call_tools=[])
        self.add_permissions("aiops_nautobot.view_conversation")
        data = self.chat(message="remember 42").json()
        conversation = Conversation.objects.get(thread_id=data["thread_id"])
        url = reverse(
            "plugins-api:aiops_nautobot-api:conversation-messages", kwargs={"pk": conversation.pk}
        )
        response = self.client.get(url, **self.header)
        self.assertHttpStatus(response, 200)
        body = response.json()
        self.assertEqual(body["count"], 2)
        self.assertEqual(
            [(m["role"], m["content"]) for m in body["messages"]],
            [("user", "remember 42"), ("assistant", "noted")],
        )
        other = get_user_model().objects.create_user(username="trudy")
        ObjectPermission.objects.get(name="aiops_nautobot.view_conversation").users.add(other)
        header = {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=other).key}"}
        self.assertHttpStatus(self.client.get(url, **header), 404)

    def test_history_shows_every_message_of_a_summarised_thread(self):
        """A context summary (``context_policy="summarize"``) never hides stored messages."""
        from aiops_nautobot.services.stores import with_store

        offline_model(answer="noted", call_tools=[])
        self.add_permissions("aiops_nautobot.view_conversation")
        data = self.chat(message="remember 42").json()
        self.chat(message="and 43", thread_id=data["thread_id"])
        summary = {"text": "asked to remember 42", "upto": 2}
        with_store(lambda store: store.append(data["thread_id"], [], metadata={"summary": summary}))
        tail = with_store(lambda store: store.load(data["thread_id"], since_summary=True))
        self.assertEqual([m.content for m in tail.messages], ["and 43", "noted"])
        conversation = Conversation.objects.get(thread_id=data["thread_id"])
        url = reverse(
            "plugins-api:aiops_nautobot-api:conversation-messages", kwargs={"pk": conversation.pk}
        )
        body = self.client.get(url, **self.header).json()
        self.assertEqual(body["count"], 4)
        self.assertEqual(
            [m["content"] for m in body["messages"]], ["remember 42", "noted", "and 43", "noted"]
        )

    def test_deleting_a_conversation_deletes_its_thread(self):
        offline_model()
        data = self.chat(message="forget me").json()
        conversation = Conversation.objects.get(thread_id=data["thread_id"])
        self.assertIsNotNone(load_thread(data["thread_id"]))
        with self.captureOnCommitCallbacks(execute=True):
            conversation.delete()
        self.assertIsNone(load_thread(data["thread_id"]))


@memory_store
class ChatConfigurationTest(APITestCase):
    """What happens without a configured model."""

    def setUp(self):
        super().setUp()
        self.url = reverse("plugins-api:aiops_nautobot-api:chat")
        self.add_permissions(CHAT_PERMISSION)

    def chat(self, **body):
        return self.client.post(self.url, body, format="json", **self.header)

    def test_lab_falls_back_to_environment_variables(self):
        env = {"AIOPS_ENVIRONMENT": "LAB", "AIOPS_MODEL": "test:from-env"}
        with mock.patch.dict(os.environ, env):
            response = self.chat(message="hello")
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["model"], "test:from-env")
        self.assertTrue(response.json()["output"].startswith("(test model)"))

    def test_lab_without_the_variable_says_what_to_set(self):
        with mock.patch.dict(os.environ, {"AIOPS_ENVIRONMENT": "LAB"}):
            os.environ.pop("AIOPS_MODEL", None)
            response = self.chat(message="hello")
        self.assertHttpStatus(response, 503)
        self.assertEqual(response.json()["error"], "not_configured")
        self.assertIn("AIOPS_MODEL", response.json()["detail"])

    def test_prod_ignores_the_fallback_and_masks_the_details(self):
        env = {"AIOPS_ENVIRONMENT": "PROD", "AIOPS_MODEL": "test:from-env"}
        with mock.patch.dict(os.environ, env):
            response = self.chat(message="hello")
        self.assertHttpStatus(response, 503)
        detail = response.json()["detail"]
        self.assertNotIn("AIOPS_MODEL", detail)
        self.assertIn("Error id", detail)


REDIS_STORE = f"redis://127.0.0.1:{REDIS_PORT}/15?prefix=aiops-engine-test"


@app_settings(checkpoint_url=REDIS_STORE)
class ChatRedisStoreTest(APITestCase):
    """The production store: conversations in Redis, shared by every worker."""

    def setUp(self):
        super().setUp()
        require_service("Redis", "127.0.0.1", REDIS_PORT)
        self.add_permissions(CHAT_PERMISSION)
        self.url = reverse("plugins-api:aiops_nautobot-api:chat")

    def tearDown(self):
        import redis

        client = redis.Redis.from_url(f"redis://127.0.0.1:{REDIS_PORT}/15")
        keys = list(client.scan_iter(match="aiops-engine-test*"))
        if keys:
            client.delete(*keys)
        client.close()
        super().tearDown()

    def test_turns_land_in_redis_and_deleting_clears_them(self):
        import anyio

        from aiops_core.checkpoint import open_store
        from aiops_core.messages import content_text

        offline_model(answer="stored", call_tools=[])
        body = {"message": "remember this"}
        data = self.client.post(self.url, body, format="json", **self.header).json()
        body = {"message": "and this", "thread_id": data["thread_id"]}
        self.client.post(self.url, body, format="json", **self.header)

        async def read():  # a separate connection, as another worker would have
            async with open_store(REDIS_STORE) as store:
                return await store.load(data["thread_id"])

        thread = anyio.run(read)
        self.assertEqual(thread.info.owner, str(self.user.pk))
        self.assertEqual(
            [content_text(m.content) for m in thread.messages],
            ["remember this", "stored", "and this", "stored"],
        )
        with self.captureOnCommitCallbacks(execute=True):
            Conversation.objects.get(thread_id=data["thread_id"]).delete()
        self.assertIsNone(anyio.run(read))
