"""The chat endpoints behave like Nautobot's own API views: serializer-checked bodies, the
``API-Version`` header and entries in the OpenAPI schema."""

from __future__ import annotations

from django.test import SimpleTestCase
from django.urls import include, path, reverse
from drf_spectacular.generators import SchemaGenerator
from nautobot.apps.testing import APITestCase
from rest_framework.settings import api_settings

from aiops_nautobot.api import urls

from ..engine_fixtures import memory_store, offline_model
from .test_chat import CHAT_PERMISSION, parse_sse


def url(name: str) -> str:
    return reverse(f"plugins-api:aiops_nautobot-api:{name}")


@memory_store
class ChatAPIVersionTest(APITestCase):
    """Every chat answer carries ``API-Version``, and a version can be asked for."""

    def setUp(self):
        super().setUp()
        self.add_permissions(CHAT_PERMISSION)
        offline_model()

    def post(self, name, header=None, **body):
        return self.client.post(url(name), body, format="json", **(header or self.header))

    def test_answers_carry_the_default_api_version(self):
        default = api_settings.DEFAULT_VERSION
        response = self.post("chat", message="hi")
        self.assertHttpStatus(response, 200)
        self.assertEqual(response["API-Version"], default)
        response = self.post("chat", message="hi", stream=True)
        self.assertEqual(response["API-Version"], default)
        self.assertEqual(parse_sse(b"".join(response.streaming_content))[-1][0], "final")
        response = self.post("chat-cancel", thread_id="t-1")
        self.assertHttpStatus(response, 202)
        self.assertEqual(response["API-Version"], default)
        response = self.post("chat-approve", thread_id="t-1")  # an error answer too
        self.assertHttpStatus(response, 400)
        self.assertEqual(response["API-Version"], default)

    def test_a_requested_version_is_honoured_and_an_unknown_one_refused(self):
        oldest = api_settings.ALLOWED_VERSIONS[0]
        header = {**self.header, "HTTP_ACCEPT": f"application/json; version={oldest}"}
        response = self.post("chat", header, message="hi")
        self.assertHttpStatus(response, 200)
        self.assertEqual(response["API-Version"], oldest)
        header = {**self.header, "HTTP_ACCEPT": "application/json; version=0.1"}
        response = self.post("chat", header, message="hi")
        self.assertHttpStatus(response, 406)


@memory_store
class ChatSerializerValidationTest(APITestCase):
    """A field of the wrong type or shape is a 400 ``{error, detail}`` naming the field."""

    def setUp(self):
        super().setUp()
        self.add_permissions(CHAT_PERMISSION)
        offline_model()

    def assert_names(self, name, body, field):
        response = self.client.post(url(name), body, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        data = response.json()
        self.assertEqual(set(data), {"error", "detail"})
        self.assertEqual(data["error"], "bad_request")
        self.assertIn(f"'{field}'", data["detail"])

    def test_bad_fields_are_named(self):
        cases = [
            ("chat", {"message": 5}, "message"),
            ("chat", {"message": "x" * 100_001}, "message"),
            ("chat", {"message": "hi", "stream": "maybe"}, "stream"),
            ("chat", {"message": "hi", "model": 7}, "model"),
            ("chat", {"message": "hi", "thread_id": 12}, "thread_id"),
            ("chat", {"message": "hi", "thread_id": "a b"}, "thread_id"),
            ("chat", {"message": "hi", "context": "dcim.device:1"}, "context"),
            ("chat", {"message": "hi", "context": {"object": "x", "more": 1}}, "context"),
            ("chat", {"message": "hi", "context": {"object": 3}}, "context.object"),
            ("chat-approve", {"thread_id": "t", "pause_id": "p", "approve": "c1"}, "approve"),
            ("chat-approve", {"thread_id": "t", "pause_id": "p", "reject": [1]}, "reject.0"),
            ("chat-approve", {"thread_id": "t", "pause_id": "p", "answers": []}, "answers"),
            ("chat-approve", {"thread_id": "t", "approve": ["c1"]}, "pause_id"),
            ("chat-cancel", {}, "thread_id"),
            ("chat-cancel", {"thread_id": "x" * 129}, "thread_id"),
        ]
        for name, body, field in cases:
            with self.subTest(name=name, field=field, body=str(body)[:60]):
                self.assert_names(name, body, field)

    def test_empty_optional_fields_mean_not_given(self):
        body = {"message": "hi", "thread_id": "", "model": "", "stream": None, "context": {}}
        response = self.client.post(url("chat"), body, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        self.assertEqual(response.json()["model"], "test:assistant")

    def test_stream_can_still_be_asked_for_in_the_query(self):
        response = self.client.post(
            url("chat") + "?stream=true", {"message": "hi"}, format="json", **self.header
        )
        self.assertHttpStatus(response, 200)
        self.assertTrue(response["Content-Type"].startswith("text/event-stream"))
        self.assertEqual(parse_sse(b"".join(response.streaming_content))[-1][0], "final")


class ChatOpenAPISchemaTest(SimpleTestCase):
    """The chat endpoints appear in Nautobot's API docs with their request fields."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Only the chat views: the model viewsets would need the database.
        chat = [p for p in urls.urlpatterns if str(getattr(p, "name", "")).startswith("chat")]
        patterns = [path("api/plugins/ai-ops/", include(chat))]
        cls.schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)

    def request_fields(self, path_):
        operation = self.schema["paths"][path_]["post"]
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        component = self.schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        return operation, component

    def test_chat_paths_and_request_fields(self):
        operation, body = self.request_fields("/plugins/ai-ops/chat/")
        self.assertEqual(
            set(body["properties"]),
            {"message", "thread_id", "model", "tenant", "stream", "context"},
        )
        self.assertEqual(body["required"], ["message"])
        self.assertIn("200", operation["responses"])
        self.assertIn("text/event-stream", operation["responses"]["200"]["content"])
        self.assertIn("400", operation["responses"])

        operation, body = self.request_fields("/plugins/ai-ops/chat/approve/")
        self.assertEqual(
            set(body["properties"]),
            {"thread_id", "pause_id", "approve", "reject", "answers"},
        )
        self.assertEqual(sorted(body["required"]), ["pause_id", "thread_id"])
        answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        self.assertTrue(answer.endswith("/ChatResponse"))

        operation, body = self.request_fields("/plugins/ai-ops/chat/cancel/")
        self.assertEqual(set(body["properties"]), {"thread_id"})
        self.assertIn("202", operation["responses"])
