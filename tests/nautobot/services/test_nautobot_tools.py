"""The read-only Nautobot lookup tool sees exactly what the user may view."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from nautobot.apps.testing import TestCase
from nautobot.extras.models import Tag
from nautobot.users.models import ObjectPermission

from aiops_nautobot.services.nautobot_tools import lookup, nautobot_tools


class LookupTest(TestCase):
    def setUp(self):
        super().setUp()
        self.viewer = get_user_model().objects.create_user(username="viewer")
        Tag.objects.create(name="core-routers")
        Tag.objects.create(name="core-switches")
        Tag.objects.create(name="edge")

    def grant(self, **constraints):
        permission = ObjectPermission.objects.create(
            name="view some tags", actions=["view"], constraints=constraints or None
        )
        permission.object_types.add(ContentType.objects.get_for_model(Tag))
        permission.users.add(self.viewer)

    def test_without_permission_nothing_is_visible(self):
        self.assertEqual(lookup(self.viewer, "extras.tag", "core")["count"], 0)

    def test_object_permission_constraints_apply(self):
        self.grant(name__startswith="core-")
        found = lookup(self.viewer, "extras.tag", "")
        self.assertEqual(
            sorted(r["display"] for r in found["results"]),
            [
                "core-routers",
                "core-switches",
            ],
        )
        searched = lookup(self.viewer, "extras.tag", "routers")
        self.assertEqual([r["display"] for r in searched["results"]], ["core-routers"])

    def test_limit_is_bounded(self):
        self.grant()
        found = lookup(self.viewer, "extras.tag", limit=1)
        self.assertEqual(len(found["results"]), 1)
        self.assertEqual(found["count"], 3)

    def test_sensitive_and_unknown_models_are_refused(self):
        for model in ("extras.secret", "users.user", "aiops_nautobot.llmmodel", "dcim.nothing"):
            with self.subTest(model=model), self.assertRaises(ValueError):
                lookup(self.viewer, model)

    def test_the_tool_schema(self):
        [tool] = nautobot_tools(self.viewer)
        self.assertEqual(tool.name, "nautobot_lookup")
        self.assertEqual(tool.parameters["required"], ["model"])
