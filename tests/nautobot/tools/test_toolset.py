"""The tools as the agent runs them: worker threads, output caps, and a chat end to end.

These tests commit their rows (``TransactionTestCase``): the tools run the ORM in worker threads
with connections of their own, which see only committed data.
"""

from __future__ import annotations

import dataclasses
import json
import threading

import anyio
from django.db import OperationalError, connection
from nautobot.apps.testing import TransactionTestCase
from nautobot.dcim.models import Device, Interface
from nautobot.extras.models import Status

from aiops_core.context import RunContext
from aiops_core.messages import AssistantMessage, ToolCall, ToolResultMessage
from aiops_nautobot.services.chat import prepare_chat, run_chat
from aiops_nautobot.tools import NativeToolsConfig, native_tools
from aiops_nautobot.tools.workers import OrmWorkers

from ..engine_fixtures import app_settings, offline_model
from .network import grant, seed_network, viewer

QUESTION = "Which interfaces on ams01-core-01 are down?"


def call_tool(tool, **arguments):
    return anyio.run(tool.invoke, arguments, RunContext())


class WorkersTest(TransactionTestCase):
    def test_calls_run_in_parallel_threads(self):
        barrier = threading.Barrier(2, timeout=10)  # two calls in one thread would never meet
        workers = OrmWorkers(workers=2, timeout=10)

        def meet() -> int:
            barrier.wait()
            return threading.get_ident()

        async def both() -> list[int]:
            results: list[int] = []

            async def one() -> None:
                results.append(await workers.run(meet))

            async with anyio.create_task_group() as group:
                group.start_soon(one)
                group.start_soon(one)
            return results

        idents = anyio.run(both)
        self.assertEqual(len(set(idents)), 2)
        self.assertNotIn(threading.get_ident(), idents)

    def test_the_database_stops_a_query_at_the_tool_timeout(self):
        workers = OrmWorkers(workers=1, timeout=0.2)

        def slow() -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(30)")

        with self.assertRaises(OperationalError) as caught:
            anyio.run(workers.run, slow)
        self.assertIn("statement timeout", str(caught.exception))

    def test_a_timed_out_caller_returns_while_the_thread_is_still_busy(self):
        release = threading.Event()
        workers = OrmWorkers(workers=1, timeout=10)

        async def call() -> None:
            with anyio.fail_after(0.1):
                await workers.run(release.wait, 10)

        with self.assertRaises(TimeoutError):
            anyio.run(call)
        self.assertFalse(release.is_set())  # the caller did not wait for the thread
        release.set()


class ToolsetTest(TransactionTestCase):
    def setUp(self):
        super().setUp()
        seed_network()
        self.user = viewer()
        for model in (Device, Interface, Status):
            grant(self.user, model)

    def tools(self, **config):
        return {t.name: t for t in native_tools(self.user, NativeToolsConfig(**config))}

    def test_output_is_capped_with_a_marker(self):
        search = self.tools(max_result_chars=300)["nautobot_search"]
        text = call_tool(search, model="dcim.interface", fields=["name", "description"])
        self.assertTrue(text.startswith('{"model":"dcim.interface","count":8'), text)
        self.assertIn("[truncated: this tool result had", text)
        self.assertLess(len(text.split("\n[truncated")[0]), 301)

    def test_an_unknown_filter_is_an_error_naming_the_valid_ones(self):
        from aiops_nautobot.tools import ToolInputError

        search = self.tools()["nautobot_search"]
        with self.assertRaises(ToolInputError) as caught:
            call_tool(search, model="dcim.interface", filters={"colour": "red"})
        self.assertIn("Unknown filters ['colour']", str(caught.exception))
        self.assertIn("enabled", str(caught.exception))

    def test_pages_and_counts(self):
        search = self.tools()["nautobot_search"]
        first = json.loads(call_tool(search, model="dcim.interface", limit=5))
        self.assertEqual((first["count"], first["returned"], first["next_offset"]), (8, 5, 5))
        second = json.loads(call_tool(search, model="dcim.interface", limit=5, offset=5))
        self.assertEqual((second["returned"], second["next_offset"]), (3, None))
        ids = {r["id"] for r in first["results"]} | {r["id"] for r in second["results"]}
        self.assertEqual(len(ids), 8)

    def test_disabled_by_the_operator(self):
        self.assertEqual(native_tools(self.user, NativeToolsConfig(enabled=False)), [])
        self.assertNotIn("nautobot_apply_change_set", self.tools())  # writes are opt-in
        self.assertIn("nautobot_apply_change_set", self.tools(writes=True))


def scripted(request):
    """The ``function`` model: search the device's disabled interfaces, then answer from them."""
    results = [m for m in request.messages if isinstance(m, ToolResultMessage)]
    if not results:
        call = ToolCall(
            id="call-1",
            name="nautobot_search",
            arguments={
                "model": "dcim.interface",
                "filters": {"device": ["ams01-core-01"], "enabled": False},
                "fields": ["name", "enabled"],
            },
        )
        return AssistantMessage(content="", tool_calls=[call])
    data = json.loads(results[-1].text)
    names = ", ".join(row["name"] for row in data["results"])
    return f"{data['count']} interfaces are down on ams01-core-01: {names}"


class ChatEndToEndTest(TransactionTestCase):
    def test_which_interfaces_are_down(self):
        seed_network()
        user = viewer()
        for model in (Device, Interface, Status):
            grant(user, model)
        offline_model()
        with app_settings(checkpoint_url="memory://"):
            chat = prepare_chat(user, QUESTION)
            choice = dataclasses.replace(
                chat.plan.model, spec="function:scripted", options={"function": scripted}
            )
            chat = dataclasses.replace(chat, plan=dataclasses.replace(chat.plan, model=choice))
            self.assertIn("nautobot_search", [t.name for t in chat.plan.tools])
            reply = run_chat(chat)
        self.assertEqual(reply["status"], "completed", reply)
        self.assertEqual(reply["output"], "2 interfaces are down on ams01-core-01: Gi0/2, Gi0/3")
        [call] = reply["tool_calls"]
        self.assertEqual(call["name"], "nautobot_search")
        self.assertFalse(call["is_error"])
