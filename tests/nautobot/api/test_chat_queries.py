"""The chat endpoint's own database cost: queries per turn, flat in middleware and MCP servers."""

from __future__ import annotations

import os

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from nautobot.apps.testing import APITransactionTestCase
from nautobot.extras.models import Secret

from aiops_nautobot.models import (
    Budget,
    LLMMiddleware,
    MCPServer,
    MiddlewareType,
    SystemPrompt,
)

from ..engine_fixtures import memory_store, offline_model

CHAT_PERMISSION = "aiops_nautobot.use_chat_conversation"
HEADERS_VARIABLE = "AIOPS_TEST_QUERIES_MCP_HEADERS"
MIDDLEWARE = ("logging", "model_call_limit", "tool_call_limit")

# Queries the request thread runs for the first JSON turn of a thread: 3 for the API token and
# the user's permissions; the conversation (1, none yet); the model with its provider, secret
# and prompt (1); its middleware with their types (1); the healthy MCP servers with their
# secrets (1) and their tool catalog (1); prices (1) and budgets (1); creating the conversation
# with its change log (savepoint, insert, 2 tag reads, its change sets for the snapshot, change
# record, release: 7); what every budget left (1 aggregate); Nautobot's webhook and job hook
# dispatch of the change (4). Was 24 with one budget (26 with three) before the conversation row
# and the model were reused and the budgets summed in one query. The engine loop's own writes
# (usage records) run on its thread and are not counted.
QUERIES_PER_TURN = 22
# A later turn of the same thread on the same model: the same reads (the session and user
# here, as the test client logs in), then one UPDATE of the conversation's activity (activity is
# not change-logged: no savepoint, tag reads, change record or webhook dispatch) and the end of
# request change-log check. 21 while every turn saved the row through the change log.
QUERIES_PER_LATER_TURN = 13


@memory_store
class ChatQueryCountTest(APITransactionTestCase):
    """One turn of the ``test`` model with middleware, MCP servers, a prompt and a budget."""

    def setUp(self):
        super().setUp()
        self.url = reverse("plugins-api:aiops_nautobot-api:chat")
        self.add_permissions(CHAT_PERMISSION)
        os.environ[HEADERS_VARIABLE] = '{"X-Test": "1"}'
        self.addCleanup(os.environ.pop, HEADERS_VARIABLE, None)
        prompt = SystemPrompt.objects.create(name="ops", text="You help {user}.", status="active")
        self.model = offline_model()
        self.model.system_prompt = prompt
        self.model.input_price = self.model.output_price = 1
        self.model.save()

    def configure(self, count: int) -> None:
        """``count`` middleware rows on the model, ``count`` healthy HTTP MCP servers (on a
        closed local port: they fail fast, nothing leaves the machine) and ``count`` budgets."""
        LLMMiddleware.objects.filter(llm_model=self.model).delete()
        MCPServer.objects.all().delete()
        Budget.objects.all().delete()
        subjects = [{}, {"user": self.user}, {"llm_model": self.model}]
        for index, subject in enumerate(subjects[:count]):
            Budget.objects.create(name=f"budget-{index}", limit=100 + index, **subject)
        for index, name in enumerate(MIDDLEWARE[:count]):
            kind, _ = MiddlewareType.objects.get_or_create(name=name, defaults={"is_builtin": True})
            LLMMiddleware.objects.create(
                llm_model=self.model, middleware_type=kind, priority=10 + index, config={}
            )
        for index in range(count):
            secret = Secret.objects.get_or_create(
                name=f"mcp-headers-{index}",
                defaults={
                    "provider": "environment-variable",
                    "parameters": {"variable": HEADERS_VARIABLE},
                },
            )[0]
            MCPServer.objects.create(
                name=f"mcp-{index}",
                status="healthy",
                protocol="http",
                url=f"http://127.0.0.1:9/{index}",
                server_type="external",
                headers_secret=secret,
            )

    def turn_queries(self, thread_id: str | None = None) -> list[str]:
        body = {"message": "hi", **({"thread_id": thread_id} if thread_id else {})}
        with CaptureQueriesContext(connection) as queries:
            response = self.client.post(self.url, body, format="json", **self.header)
        self.assertHttpStatus(response, 200)
        data = response.json()
        self.assertEqual(data["status"], "completed")
        self.assertIn("budget_remaining", data)
        self.thread_id = data["thread_id"]
        return [q["sql"] for q in queries.captured_queries]

    def test_queries_do_not_grow_with_middleware_servers_or_budgets(self):
        self.configure(1)
        self.turn_queries()  # warm: content types, caches
        one = self.turn_queries()
        self.configure(3)
        self.turn_queries()
        three = self.turn_queries()
        self.assertEqual(len(one), len(three), "\n".join(three))
        self.assertEqual(len(three), QUERIES_PER_TURN, "\n".join(three))

    def test_a_later_turn_reads_the_thread_once(self):
        self.configure(3)
        self.turn_queries()
        later = self.turn_queries(self.thread_id)
        conversation_reads = [
            sql for sql in later if sql.startswith('SELECT "aiops_nautobot_conversation"')
        ]
        self.assertEqual(len(conversation_reads), 1, "\n".join(later))
        self.assertEqual(len(later), QUERIES_PER_LATER_TURN, "\n".join(later))
