"""The Nautobot-native tools on a generated network: latency and SQL queries per call.

Opt-in (it needs a migrated Nautobot database it may fill): set
``AIOPS_BENCH_NAUTOBOT_DB`` to a scratch PostgreSQL database (e.g. a clone of a migrated one,
``createdb -T <migrated> bench_nautobot``). Without it the scenario reports nothing.
``AIOPS_BENCH_NAUTOBOT_DEVICES`` (default 10000; 200 with ``--quick``) and
``AIOPS_BENCH_NAUTOBOT_INTERFACES`` (per device, default 20) size the network; rows are added
with ``bulk_create`` until the size is reached and kept for the next run.

Each tool call runs as a non-superuser with view permissions, the way the agent runs it (the
sync function behind the tool, in this thread). Baseline: the plain ORM query returning the same
rows, without permissions, rendering or limits.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

DB_VARIABLE = "AIOPS_BENCH_NAUTOBOT_DB"


def _setup(database: str) -> None:
    os.environ["NAUTOBOT_DB_NAME"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.nautobot.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _generate(devices: int, per_device: int) -> Any:
    """The network: ``devices`` devices with ``per_device`` interfaces each (every 4th down)."""
    from django.contrib.contenttypes.models import ContentType
    from nautobot.dcim.models import (
        Device,
        DeviceType,
        Interface,
        Location,
        LocationType,
        Manufacturer,
    )
    from nautobot.extras.management import populate_status_choices
    from nautobot.extras.models import Role, Status

    populate_status_choices(verbosity=0)
    active = Status.objects.get(name="Active")
    site, _ = LocationType.objects.get_or_create(name="bench-site")
    site.content_types.add(ContentType.objects.get_for_model(Device))
    manufacturer, _ = Manufacturer.objects.get_or_create(name="bench")
    device_type, _ = DeviceType.objects.get_or_create(manufacturer=manufacturer, model="bench-r1")
    role, _ = Role.objects.get_or_create(name="bench-router")
    role.content_types.add(ContentType.objects.get_for_model(Device))
    location, _ = Location.objects.get_or_create(
        name="bench-ams", location_type=site, defaults={"status": active}
    )
    have = Device.objects.filter(role=role).count()
    batch = 500
    for start in range(have, devices, batch):
        made = Device.objects.bulk_create(
            Device(
                name=f"bench-{n:06d}",
                device_type=device_type,
                role=role,
                location=location,
                status=active,
            )
            for n in range(start, min(start + batch, devices))
        )
        Interface.objects.bulk_create(
            Interface(
                device=device,
                name=f"Gi0/{i}",
                type="1000base-t",
                status=active,
                enabled=i % 4 != 3,
            )
            for device in made
            for i in range(per_device)
        )
    return Device.objects.get(name="bench-000000")


def _user() -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType
    from nautobot.dcim.models import Device, DeviceType, Interface, Location
    from nautobot.extras.models import Status
    from nautobot.users.models import ObjectPermission

    user, created = get_user_model().objects.get_or_create(username="bench-viewer")
    if created:
        permission = ObjectPermission.objects.create(name="bench view", actions=["view"])
        for model in (Device, DeviceType, Interface, Location, Status):
            permission.object_types.add(ContentType.objects.get_for_model(model))
        permission.users.add(user)
    return get_user_model().objects.get(pk=user.pk)


def _measure(call: Callable[[], Any], count: int) -> tuple[float, int]:
    """Median milliseconds and SQL queries of one call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm caches (GraphQL schema, content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), len(queries)


def run(quick: bool = False) -> list[dict]:
    database = os.environ.get(DB_VARIABLE)
    if not database:
        return []
    devices = int(os.environ.get("AIOPS_BENCH_NAUTOBOT_DEVICES") or (200 if quick else 10_000))
    per_device = int(os.environ.get("AIOPS_BENCH_NAUTOBOT_INTERFACES") or 20)
    _setup(database)
    from nautobot.dcim.models import Interface

    from aiops_nautobot.tools.detail import object_detail
    from aiops_nautobot.tools.graphql import GraphQLLimits, run_graphql
    from aiops_nautobot.tools.search import search

    device = _generate(devices, per_device)
    user = _user()
    limits = GraphQLLimits(max_depth=6, max_complexity=2_000, max_rows=50)
    count = 5 if quick else 30
    ref = f"dcim.device:{device.pk}"
    query = '{ devices(name: "bench-000000", limit: 1) { name interfaces(limit: 50) { name enabled } } }'
    cases = [
        ("nautobot_get (device)", lambda: object_detail(user, ref)),
        (
            "nautobot_search (down interfaces)",
            lambda: search(
                user,
                "dcim.interface",
                {"device": [device.name], "enabled": False},
                fields=["name", "enabled", "status"],
            ),
        ),
        ("nautobot_graphql (device + interfaces)", lambda: run_graphql(user, query, None, limits)),
    ]
    baseline_ms, baseline_queries = _measure(
        lambda: list(Interface.objects.filter(device=device, enabled=False)), count
    )
    rows = [["plain ORM (baseline)", round(baseline_ms, 2), baseline_queries, 1.0]]
    for name, call in cases:
        ms, queries = _measure(call, count)
        rows.append([name, round(ms, 2), queries, round(ms / baseline_ms, 1)])
    return [
        {
            "title": f"Native tools on {devices:,} devices and {devices * per_device:,} interfaces",
            "columns": ["call", "median ms", "SQL queries", "ratio vs plain ORM"],
            "rows": rows,
            "notes": "as a non-superuser with view permissions; the baseline lists the same "
            "interfaces with the ORM (no permissions, rendering or limits). The query count does "
            "not grow with the rows returned (no N+1).",
        }
    ]
