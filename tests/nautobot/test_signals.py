"""Seeding of providers and middleware types after migrate."""

from __future__ import annotations

from django.apps import apps
from django.db.models.signals import post_migrate
from nautobot.apps.testing import TestCase

from aiops_nautobot import models
from aiops_nautobot.signals import seed_registry_rows

from .sample_data import GuardMiddleware, TraceMiddleware


class SeedingTest(TestCase):
    def test_seeding_twice_changes_nothing_the_second_time(self):
        seed_registry_rows()
        providers = set(models.LLMProvider.objects.values_list("pk", "name", "last_updated"))
        types = set(models.MiddlewareType.objects.values_list("pk", "name", "last_updated"))
        again = seed_registry_rows()
        self.assertEqual(again.providers_created, ())
        self.assertEqual(again.middleware_types_created, ())
        self.assertEqual(again.middleware_types_updated, ())
        self.assertEqual(
            set(models.LLMProvider.objects.values_list("pk", "name", "last_updated")), providers
        )
        self.assertEqual(
            set(models.MiddlewareType.objects.values_list("pk", "name", "last_updated")), types
        )

    def test_one_row_per_registered_entry_with_real_defaults(self):
        models.MiddlewareType.objects.filter(name=GuardMiddleware.name).delete()
        result = seed_registry_rows()
        self.assertIn(GuardMiddleware.name, result.middleware_types_created)
        guard = models.MiddlewareType.objects.get(name=GuardMiddleware.name)
        self.assertEqual(guard.default_config, {"threshold": 3, "mode": "warn"})
        self.assertFalse(guard.is_builtin)  # defined outside aiops_core
        self.assertEqual(guard.description, "Blocks requests above a threshold (test type).")
        names = set(models.LLMProvider.objects.values_list("name", flat=True))
        self.assertTrue({"test", "function"} <= names)
        self.assertEqual(models.LLMProvider.objects.filter(name="test").count(), 1)

    def test_operator_changes_to_providers_are_kept_and_type_drift_is_repaired(self):
        seed_registry_rows()
        models.LLMProvider.objects.filter(name="test").update(enabled=False, config={"answer": "x"})
        models.MiddlewareType.objects.filter(name=TraceMiddleware.name).update(
            default_config={"label": "stale"}
        )
        result = seed_registry_rows()
        self.assertEqual(result.middleware_types_updated, (TraceMiddleware.name,))
        test = models.LLMProvider.objects.get(name="test")
        self.assertEqual((test.enabled, test.config), (False, {"answer": "x"}))
        trace = models.MiddlewareType.objects.get(name=TraceMiddleware.name)
        self.assertEqual(trace.default_config, {"label": "trace"})

    def test_connected_to_post_migrate_for_this_app(self):
        models.LLMProvider.objects.filter(name="function").delete()
        app_config = apps.get_app_config("aiops_nautobot")
        post_migrate.send(
            sender=app_config,
            app_config=app_config,
            verbosity=0,
            interactive=False,
            using="default",
            apps=apps,
            plan=[],
        )
        self.assertTrue(models.LLMProvider.objects.filter(name="function").exists())
