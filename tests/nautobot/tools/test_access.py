"""A user without view permission on a device cannot learn of it through any read tool."""

from __future__ import annotations

import json

from nautobot.apps.testing import TestCase
from nautobot.dcim.models import Device, Interface, Location
from nautobot.extras.models import ObjectChange, Status
from nautobot.ipam.models import IPAddress, Prefix

from aiops_nautobot.tools import ToolInputError
from aiops_nautobot.tools.changelog import change_log
from aiops_nautobot.tools.detail import object_detail
from aiops_nautobot.tools.graphql import GraphQLLimits, run_graphql
from aiops_nautobot.tools.search import search

from .network import grant, seed_network, viewer

HIDDEN = "fra01-core-01"
LIMITS = GraphQLLimits(max_depth=6, max_complexity=2_000, max_rows=50)


def ref(obj) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


class HiddenDeviceTest(TestCase):
    """The operator may view ams01 only: its location, device and interfaces."""

    def setUp(self):
        super().setUp()
        self.net = seed_network()
        self.hidden = self.net.devices[HIDDEN]
        self.visible = self.net.devices["ams01-core-01"]
        self.user = viewer()
        grant(self.user, Device, name="ams01-core-01")
        grant(self.user, Interface, device__name="ams01-core-01")
        grant(self.user, Location, name="ams01")
        grant(self.user, Status)
        grant(self.user, ObjectChange)
        grant(self.user, Prefix)
        grant(self.user, IPAddress)

    def assertHidden(self, data) -> None:
        self.assertNotIn(HIDDEN, json.dumps(data, default=str))
        self.assertNotIn(str(self.hidden.pk), json.dumps(data, default=str))

    def test_detail_of_a_hidden_device_is_not_found_like_a_missing_one(self):
        with self.assertRaises(ToolInputError) as hidden:
            object_detail(self.user, ref(self.hidden))
        missing = "dcim.device:00000000-0000-0000-0000-000000000000"
        with self.assertRaises(ToolInputError) as absent:
            object_detail(self.user, missing)
        self.assertEqual(
            str(hidden.exception).replace(str(self.hidden.pk), "X"),
            str(absent.exception).replace("00000000-0000-0000-0000-000000000000", "X"),
        )

    def test_detail_of_a_visible_device(self):
        data = object_detail(self.user, ref(self.visible))
        self.assertEqual(data["display"], "ams01-core-01")
        self.assertEqual(data["fields"]["serial"], "SER-ams01")
        self.assertEqual(data["fields"]["status"]["display"], "Active")
        self.assertEqual(data["fields"]["location"]["display"], "ams01")
        self.assertIsNone(data["fields"]["device_type"])  # not viewable: shown as absent
        self.assertEqual(data["related_counts"]["dcim.interface (device)"], 4)
        self.assertEqual(data["url"], self.visible.get_absolute_url())
        self.assertHidden(data)

    def test_search_and_counts_leave_the_hidden_device_out(self):
        devices = search(self.user, "dcim.device", {}, fields=["name"])
        self.assertEqual(devices["count"], 1)
        self.assertEqual([row["name"] for row in devices["results"]], ["ams01-core-01"])
        self.assertEqual(search(self.user, "dcim.device", {"name": HIDDEN})["count"], 0)
        self.assertEqual(search(self.user, "dcim.device", {"q": "fra01"})["count"], 0)
        interfaces = search(self.user, "dcim.interface", {})
        self.assertEqual(interfaces["count"], 4)
        self.assertHidden(interfaces)

    def test_a_related_filter_does_not_tell_hidden_from_missing(self):
        messages = []
        for name in (HIDDEN, "nowhere-core-99"):
            with self.assertRaises(ToolInputError) as caught:
                search(self.user, "dcim.interface", {"device": [name]})
            messages.append(str(caught.exception).replace(name, "X"))
        self.assertEqual(messages[0], messages[1])

    def test_graphql_returns_only_viewable_rows(self):
        query = "{ devices(limit: 10) { name interfaces(limit: 10) { name enabled } } }"
        data = run_graphql(self.user, query, None, LIMITS)
        self.assertEqual([d["name"] for d in data["data"]["devices"]], ["ams01-core-01"])
        self.assertHidden(data)
        by_id = run_graphql(
            self.user,
            "query ($id: ID!) { device(id: $id) { name } }",
            {"id": str(self.hidden.pk)},
            LIMITS,
        )
        self.assertIsNone((by_id.get("data") or {}).get("device"))
        self.assertHidden(by_id)
        counted = run_graphql(
            self.user, "{ interfaces(limit: 50) { name device { name } } }", None, LIMITS
        )
        self.assertEqual(len(counted["data"]["interfaces"]), 4)
        self.assertHidden(counted)

    def test_the_change_log_of_a_hidden_device_is_not_found(self):
        self.hidden.serial = "SER-changed"
        self.hidden.validated_save()
        with self.assertRaises(ToolInputError):
            change_log(self.user, ref(self.hidden))
        self.assertEqual(change_log(self.user, ref(self.visible))["display"], "ams01-core-01")

    def test_without_any_permission_nothing_is_visible(self):
        stranger = viewer("stranger")
        self.assertEqual(search(stranger, "dcim.device", {})["count"], 0)
        with self.assertRaises(ToolInputError):
            object_detail(stranger, ref(self.visible))
        data = run_graphql(stranger, "{ devices(limit: 5) { name } }", None, LIMITS)
        self.assertEqual(data["data"]["devices"], [])


class SensitiveModelsTest(TestCase):
    def test_secrets_users_and_the_apps_rows_cannot_be_read(self):
        user = viewer()
        for model in (
            "extras.secret",
            "extras.secretsgroup",
            "users.user",
            "users.token",
            "aiops_nautobot.llmmodel",
            "dcim.nothing",
            "device",
        ):
            with self.subTest(model=model), self.assertRaises(ToolInputError):
                search(user, model, {})

    def test_graphql_refuses_secret_fields(self):
        user = viewer()
        for query in ("{ secrets(limit: 1) { name } }", "{ secrets_groups(limit: 1) { name } }"):
            with self.subTest(query=query), self.assertRaises(ToolInputError) as caught:
                run_graphql(user, query, None, LIMITS)
            self.assertIn("not available", str(caught.exception))
