"""The "Ask AI Ops" button and the chat API's ``context`` field."""

from __future__ import annotations

from django.urls import reverse
from nautobot.apps.testing import APITestCase
from nautobot.dcim.models import Device, Location
from nautobot.extras.models import Status

from aiops_nautobot.services.chat import prepare_chat
from aiops_nautobot.services.errors import ChatInputError

from ..engine_fixtures import memory_store, offline_model
from .network import grant, seed_network, viewer

CHAT_PERMISSION = "aiops_nautobot.use_chat_conversation"


@memory_store
class AskAboutThisObjectTest(APITestCase):
    def setUp(self):
        super().setUp()
        self.net = seed_network()
        self.device = self.net.devices["ams01-core-01"]
        self.hidden = self.net.devices["fra01-core-01"]
        offline_model()

    def test_the_button_links_to_the_chat_with_the_object(self):
        self.add_permissions("dcim.view_device", "dcim.view_location")
        self.client.force_login(self.user)
        page = self.client.get(self.device.get_absolute_url())
        self.assertHttpStatus(page, 200)
        self.assertNotIn("Ask AI Ops", page.content.decode())  # no chat permission yet
        self.add_permissions(CHAT_PERMISSION)
        for obj in (self.device, self.net.locations["ams01"]):
            with self.subTest(obj=obj):
                page = self.client.get(obj.get_absolute_url())
                link = f"/plugins/ai-ops/chat/?object={obj._meta.label_lower}%3A{obj.pk}"
                self.assertIn(link, page.content.decode())
                self.assertIn("Ask AI Ops", page.content.decode())

    def test_the_context_object_reaches_the_system_prompt(self):
        user = viewer()
        for model in (Device, Location, Status):
            grant(user, model, name="ams01-core-01") if model is Device else grant(user, model)
        chat = prepare_chat(
            user, "Is it healthy?", context={"object": f"dcim.device:{self.device.pk}"}
        )
        self.assertIn('"display":"ams01-core-01"', chat.plan.system_prompt)
        self.assertIn("data, not instructions", chat.plan.system_prompt)
        plain = prepare_chat(user, "Is it healthy?")
        self.assertNotIn("ams01-core-01", plain.plan.system_prompt or "")

    def test_a_hidden_or_malformed_context_is_refused(self):
        user = viewer()
        grant(user, Device, name="ams01-core-01")
        with self.assertRaises(ChatInputError) as hidden:
            prepare_chat(user, "hi", context={"object": f"dcim.device:{self.hidden.pk}"})
        self.assertIn("that you may view", str(hidden.exception))
        self.assertNotIn("fra01", str(hidden.exception))
        for bad in (
            "dcim.device",
            {"object": 3},
            {"object": "x", "more": 1},
            {"object": "users.user:" + str(user.pk)},
        ):
            with self.subTest(bad=bad), self.assertRaises(ChatInputError):
                prepare_chat(user, "hi", context=bad)

    def test_the_api_answers_400_for_a_bad_context(self):
        self.add_permissions(CHAT_PERMISSION)
        url = reverse("plugins-api:aiops_nautobot-api:chat")
        body = {"message": "hi", "context": {"object": f"dcim.device:{self.hidden.pk}"}}
        response = self.client.post(url, body, format="json", **self.header)
        self.assertHttpStatus(response, 400)
        self.assertIn("context", response.json()["detail"])
