"""pytest set-up of the Nautobot tests, which share one pytest run with the core tests.

Django is configured here, not in pytest's ini, so runs that collect only core tests never import
Django or Nautobot. The test database (``test_nautobot_aiops``) is created and migrated right after
collection, outside any test's timeout: the first ``migrate`` of Nautobot takes minutes. It is
kept between runs (``--reuse-db`` in pyproject); later runs only apply new migrations. Pass
``--create-db`` to rebuild it.
"""

from __future__ import annotations

import contextlib
import os

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.nautobot.settings")
django.setup()

_setup: dict[str, object] = {}

# pytest-django turns Django test tags into markers; these are the tags of Nautobot's base classes.
NAUTOBOT_TEST_TAGS = {
    "api": "Nautobot API test (Django test tag)",
    "integration": "Nautobot integration test (Django test tag)",
    "performance": "Nautobot performance test (Django test tag)",
    "unit": "Nautobot unit test (Django test tag)",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in NAUTOBOT_TEST_TAGS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def _needs_database(item: pytest.Item) -> bool:
    from django.test import TransactionTestCase

    if item.get_closest_marker("browser") is not None:
        return True  # its Nautobot server runs on the test database
    if "db" in getattr(item, "fixturenames", ()):
        return True  # a pytest function on pytest-django's transactional ``db`` fixture
    cls = getattr(item, "cls", None)
    return isinstance(cls, type) and issubclass(cls, TransactionTestCase)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly or not any(map(_needs_database, session.items)):
        return
    from django.test.utils import setup_databases
    from pytest_django.plugin import blocking_manager_key  # what django_db_blocker returns

    # As in pytest-django: --create-db rebuilds the database, --reuse-db keeps it afterwards.
    reuse = bool(session.config.getvalue("reuse_db"))
    _setup["keepdb"] = reuse
    keepdb = reuse and not session.config.getvalue("create_db")
    with session.config.stash[blocking_manager_key].unblock():
        _setup["config"] = setup_databases(
            verbosity=0, interactive=False, keepdb=keepdb, serialized_aliases=set()
        )
        _drop_leftovers()


def _drop_leftovers() -> None:
    """Deletes rows an interrupted out-of-process server (browser, reliability) committed.

    Test cases roll back, and those servers delete what they made when they stop; a run killed
    while one was up leaves a default model, users or servers that would break the next run's
    tests. Migrations seed only providers and middleware types, which are kept; usage records,
    budgets and every other AI Ops row go.
    """
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db.models import ProtectedError
    from nautobot.extras.models import ObjectChange
    from nautobot.users.models import ObjectPermission

    from aiops_nautobot.models import LLMProvider, MiddlewareType

    seeded = {LLMProvider, MiddlewareType}
    made = [m for m in apps.get_app_config("aiops_nautobot").get_models() if m not in seeded]
    for _ in range(4):  # dependent rows first: a few passes
        for model in (*made, ObjectPermission, ObjectChange):
            with contextlib.suppress(ProtectedError):
                model.objects.all().delete()
    get_user_model().objects.all().delete()


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment: None, django_db_blocker):
    """Replaces pytest-django's fixture: the databases were set up after collection."""
    yield
    if "config" in _setup:
        from django.test.utils import teardown_databases

        with django_db_blocker.unblock():
            teardown_databases(_setup["config"], verbosity=0, keepdb=_setup["keepdb"])


@pytest.fixture(autouse=True)
def _registered_test_middleware():
    """Registers the ``aiops_test_*`` middleware types for the duration of one Nautobot test."""
    from aiops_core.middleware import middleware_registry

    from .sample_data import TEST_MIDDLEWARE

    with middleware_registry.override(TEST_MIDDLEWARE):
        yield


@pytest.fixture(autouse=True)
def _no_mcp_pool_outlives_its_test():
    """Closes the engine loop's MCP pools after each test: a pool kept open on a server the test
    stopped would keep reconnecting (and logging) in the background of every later test."""
    yield
    from aiops_nautobot.services import engine_loop
    from aiops_nautobot.services.mcp_pools import drop_pools

    engine = engine_loop._engine_loop
    if engine is not None and engine.running:
        with contextlib.suppress(Exception):  # a test that shut the loop down leaves nothing open
            engine.run(drop_pools(engine), timeout=30)
