"""The "Usage & cost" dashboard in a real browser: it renders its SVG charts with no script
error, and a user constrained to their own rows sees only theirs. Takes the docs' screenshot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from .conftest import ARTIFACTS, PASSWORD, PREFIX, Site
from .test_chat_page import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DASHBOARD = "/plugins/ai-ops/usage/?days=7"


def _seed(site: Site) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from nautobot.users.models import ObjectPermission

    from aiops_nautobot.models import UsageRecord

    now = timezone.now()
    calls = [
        ("alice", "openai:gpt-4o", "0.0420", 0),
        ("alice", "openai:gpt-4o", "0.0310", 1),
        ("alice", "anthropic:claude-haiku-4-5", "0.0080", 2),
        ("alice", "ollama:llama3.1", None, 3),
        ("bob", "openai:gpt-4o", "0.0900", 0),
        ("bob", "anthropic:claude-haiku-4-5", "0.0150", 4),
    ]
    for user, model, cost, days_ago in calls:
        UsageRecord.objects.create(
            run_id="browser",
            user=site.users[user],
            model=model,
            provider=model.split(":")[0],
            started_at=now - timedelta(days=days_ago, minutes=5),
            latency=1.2,
            input_tokens=1200,
            output_tokens=300,
            cached_tokens=400,
            cost=None if cost is None else Decimal(cost),
        )
    everything = ObjectPermission.objects.create(name=f"{PREFIX}usage-all", actions=["view"])
    everything.users.add(site.users["alice"])
    own = ObjectPermission.objects.create(
        name=f"{PREFIX}usage-own", actions=["view"], constraints={"user": "$user"}
    )
    own.users.add(site.users["bob"])
    for permission in (everything, own):
        permission.object_types.add(ContentType.objects.get_for_model(UsageRecord))


def _unseed(site: Site) -> None:
    from nautobot.users.models import ObjectPermission

    from aiops_nautobot.models import UsageRecord

    UsageRecord.objects.filter(run_id="browser").delete()
    ObjectPermission.objects.filter(name__startswith=f"{PREFIX}usage-").delete()


def _open(browser: Any, site: Site, user: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(base_url=site.url, viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(f"/login/?next={DASHBOARD}")
    page.fill("#id_username", f"{PREFIX}{user}")
    page.fill("#id_password", PASSWORD)
    page.locator("form [type=submit]").first.click()
    page.wait_for_url(f"**{DASHBOARD}")
    return context, page, errors


def test_dashboard_charts_and_own_rows_only(browser: Any, site: Site, django_db_blocker: Any):
    with django_db_blocker.unblock():
        in_thread(lambda: _seed(site))
        try:
            context, page, errors = _open(browser, site, "alice")
            chart = page.locator('svg[aria-label="Cost by model"]')
            chart.wait_for()
            assert chart.bounding_box()["width"] > 300
            assert page.locator("[data-total=calls]").inner_text() == "6"
            assert "$0.1860 + 1 of unknown cost" in page.locator("[data-total=cost]").inner_text()
            page.screenshot(path=str(ARTIFACTS / "usage-dashboard.png"), full_page=True)
            assert errors == []
            context.close()
            context, page, errors = _open(browser, site, "bob")
            assert page.locator("[data-total=calls]").inner_text() == "2"
            assert f"{PREFIX}alice" not in page.content()
            assert errors == []
            context.close()
        finally:
            in_thread(lambda: _unseed(site))
