"""The chat page's view: layout, permissions, the script's settings and the page's CSP.

What the page does in a browser is tested in ``tests/nautobot/browser/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.contrib.auth import get_user_model
from django.urls import reverse
from nautobot.apps.testing import TestCase

import aiops_nautobot
from aiops_nautobot.chat_page import content_security_policy

from .engine_fixtures import memory_store, offline_model

TEMPLATES = Path(aiops_nautobot.__file__).parent / "templates" / "aiops_nautobot"
CHAT = "aiops_nautobot.use_chat_conversation"


def page_config(response) -> dict:
    match = re.search(
        r'<script id="aiops-chat-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, "the page has no config data block"
    return json.loads(match.group(1))


@memory_store
class ChatPageTest(TestCase):
    user_permissions = [CHAT]

    def setUp(self):
        super().setUp()
        self.url = reverse("plugins:aiops_nautobot:chat")

    def test_page_in_the_layout_with_its_static_assets_and_no_inline_script_of_its_own(self):
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 200)
        html = response.content.decode()
        self.assertIn('id="aiops-chat"', html)
        self.assertIn("/static/aiops_nautobot/chat/chat.js", html)
        self.assertIn("/static/aiops_nautobot/chat/vendor/purify.min.js", html)
        self.assertIn('id="nav_menu"', html)  # Nautobot's navigation is there
        template = (TEMPLATES / "chat.html").read_text()
        self.assertEqual(re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", template), [])

    def test_strict_content_security_policy(self):
        response = self.client.get(self.url)
        policy = response["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        script_src = directives["script-src"].split()
        self.assertEqual(script_src[0], "'self'")
        self.assertTrue(all(s.startswith("'sha256-") for s in script_src[1:]), script_src)
        self.assertNotIn("unsafe-inline", directives["script-src"])
        self.assertNotIn("unsafe-eval", policy)
        self.assertEqual(directives["object-src"], "'none'")
        self.assertEqual(directives["img-src"], "'self' data:")
        self.assertEqual(directives["connect-src"], "'self'")

    def test_policy_hashes_only_inline_code(self):
        html = (
            '<script>var a = 1;</script><script src="/static/x.js"></script>'
            '<script type="application/json">{"a": 1}</script>'
        )
        script_src = content_security_policy(html).split("; ")[1].split()[1:]
        self.assertEqual(len(script_src), 2)  # 'self' and the one inline script

    def test_models_are_the_ones_the_user_may_use(self):
        default = offline_model("assistant")
        hidden = offline_model("secret-model", default=False)
        config = page_config(self.client.get(self.url))
        self.assertEqual([m["id"] for m in config["models"]], [str(default.pk)])
        self.assertTrue(config["models"][0]["default"])
        self.add_permissions("aiops_nautobot.view_llmmodel")
        config = page_config(self.client.get(self.url))
        self.assertEqual({m["id"] for m in config["models"]}, {str(default.pk), str(hidden.pk)})
        self.assertEqual(config["user"], str(self.user.pk))
        self.assertEqual(config["ttl_minutes"], 5)
        self.assertEqual(config["urls"]["cancel"], "/api/plugins/ai-ops/chat/cancel/")

    def test_no_model_configured_is_said_by_the_config(self):
        config = page_config(self.client.get(self.url))
        self.assertEqual(config["models"], [])

    def test_without_use_chat_the_page_says_what_is_missing(self):
        other = get_user_model().objects.create_user(username="nochat")
        self.client.force_login(other)
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 403)
        self.assertIn("use_chat", response.content.decode())
        self.assertNotIn("aiops-chat-config", response.content.decode())

    def test_anonymous_users_are_sent_to_the_login(self):
        self.client.logout()
        response = self.client.get(self.url)
        self.assertHttpStatus(response, 302)
        self.assertIn("/login/", response["Location"])

    def test_chat_is_in_the_ai_ops_menu(self):
        response = self.client.get(reverse("home"))
        self.assertIn(self.url, response.content.decode())


@memory_store
class ChatPageBudgetTest(TestCase):
    """The page's config carries the remaining budget per model; the page has a place for it."""

    user_permissions = [CHAT]

    def test_remaining_budget_per_model(self):
        from decimal import Decimal

        from django.utils import timezone

        from aiops_nautobot.models import Budget, UsageRecord

        model = offline_model("assistant")
        url = reverse("plugins:aiops_nautobot:chat")
        config = page_config(self.client.get(url))
        self.assertNotIn("budget_remaining", config["models"][0])  # no budget: nothing shown
        Budget.objects.create(name="mine", user=self.user, limit=Decimal("2"))
        Budget.objects.create(name="everyone", period="month", limit=Decimal("50"))
        UsageRecord.objects.create(
            run_id="r",
            user=self.user,
            model=model.spec,
            provider=model.provider.name,
            started_at=timezone.now(),
            latency=0.1,
            cost=Decimal("0.5"),
        )
        response = self.client.get(url)
        self.assertEqual(page_config(response)["models"][0]["budget_remaining"], "1.5000")
        self.assertIn('id="aiops-chat-budget"', response.content.decode())
