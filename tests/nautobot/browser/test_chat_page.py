"""The chat page in a real browser against a real Nautobot server (see ``conftest.py``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from ..scripted_model import XSS_TOOL_ARGUMENT
from .conftest import ARTIFACTS, PASSWORD, PREFIX, TTL_MINUTES, Site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHAT = "/plugins/ai-ops/chat/"
CONVERSATIONS = "/api/plugins/ai-ops/conversations/"
TIMEOUT = 20_000  # ms for one expectation on a loaded machine
TURNS = 10  # turns measured by the latency test


class Visit:
    """One browser context (cookies and storage) on the chat page, recording what went wrong."""

    def __init__(self, browser: Any, site: Site, clock: bool = False, theme: str = "light") -> None:
        self.site = site
        self.context = browser.new_context(
            base_url=site.url,
            viewport={"width": 1280, "height": 860},
            color_scheme="dark" if theme == "dark" else "light",
        )
        self.context.set_default_timeout(TIMEOUT)
        self.page = self.context.new_page()
        if clock:
            self.page.clock.install()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def login(self, user: str, theme: str = "light") -> Visit:
        self.context.add_cookies([{"name": "theme", "value": theme, "url": self.site.url}])
        self.page.goto(f"/login/?next={CHAT}")
        self.page.fill("#id_username", f"{PREFIX}{user}")
        self.page.fill("#id_password", PASSWORD)
        self.page.locator("form [type=submit]").first.click()
        self.page.wait_for_url(f"**{CHAT}")
        self.page.wait_for_selector("#aiops-chat-input")
        return self

    def send(self, text: str, model: str | None = None) -> None:
        if model is not None:
            self.page.select_option("#aiops-chat-model", self.site.models[model])
        self.page.fill("#aiops-chat-input", text)
        self.page.press("#aiops-chat-input", "Enter")

    def answers(self) -> Any:
        return self.page.locator(".aiops-msg-assistant")

    def wait_idle(self) -> None:
        self.page.wait_for_selector("#aiops-chat-log[aria-busy=false]")

    def api(self, path: str) -> Any:
        response = self.page.request.get(path)
        return response.status, (response.json() if response.ok else None)

    def thread_id(self) -> str:
        return self.page.evaluate(
            "k => JSON.parse(localStorage.getItem(k)).threadId", self.storage_key()
        )

    def storage_key(self) -> str:
        user = self.page.evaluate(
            "JSON.parse(document.getElementById('aiops-chat-config').textContent).user"
        )
        return f"aiops-chat:v1:user:{user}"

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Any, site: Site) -> Iterator[Any]:
    opened: list[Visit] = []

    def open_visit(user: str = "alice", *, clock: bool = False, theme: str = "light") -> Visit:
        page = Visit(browser, site, clock=clock, theme=theme).login(user, theme)
        opened.append(page)
        return page

    yield open_visit
    for page in opened:
        assert page.errors == [], page.errors  # no script error on the page
        page.close()


def stored_thread(thread_id: str) -> Any:
    from ..engine_fixtures import load_thread

    return load_thread(thread_id)


def test_send_streams_text_and_shows_the_tool_call(visit: Any) -> None:
    page = visit()
    page.send("What time is it?", model="assistant")
    tool = page.page.locator(".aiops-tool").first
    tool.locator(".aiops-tool-name", has_text="get_current_time").wait_for()
    page.page.locator(".aiops-markdown", has_text="I called 1 tool(s)").wait_for()
    page.wait_idle()
    # The test model's argument is no time zone: the real server's error, with its duration.
    assert re.fullmatch(r" failed in \d+\.\d\d s", tool.locator(".aiops-tool-state").inner_text())
    tool.locator("summary").first.click()
    assert "timezone" in tool.locator(".aiops-tool-args").inner_text()
    assert "Invalid timezone" in tool.locator(".aiops-tool-result").inner_text()
    page.shot("chat-page")
    # The sidebar lists the conversation with its model.
    item = page.page.locator(".aiops-history-item.active")
    item.wait_for()
    assert "What time is it?" in item.inner_text()
    assert f"{PREFIX}assistant" in item.inner_text()
    # Shift+Enter is a new line, not a message.
    page.page.fill("#aiops-chat-input", "line one")
    page.page.press("#aiops-chat-input", "Shift+Enter")
    assert page.page.locator(".aiops-msg-user").count() == 1
    assert page.page.input_value("#aiops-chat-input") == "line one\n"


def test_stop_cancels_the_answer_on_the_server(visit: Any) -> None:
    page = visit()
    page.send("a slow answer please", model="scripted")
    page.page.locator(".aiops-markdown", has_text="word5").wait_for()
    thread_id = page.thread_id()
    page.page.click("#aiops-chat-stop")
    page.page.locator(".aiops-note", has_text="Stopped").wait_for()
    page.wait_idle()
    assert "word299" not in page.page.locator("#aiops-chat-log").inner_text()
    assert stored_thread(thread_id) is None  # the cancelled turn stored nothing
    status, data = page.api(f"{CONVERSATIONS}?thread_id={thread_id}")
    assert (status, data["count"]) == (200, 0)


def test_approve_and_reject_a_paused_call(visit: Any) -> None:
    page = visit()
    page.send("What time is it?", model="guarded")
    pending = page.page.locator(".aiops-pending-call")
    pending.wait_for()
    assert "get_current_time" in pending.inner_text()
    page.shot("chat-approval")
    page.page.get_by_role("button", name="Approve get_current_time").click()
    page.page.locator(".aiops-decision", has_text="Approved").wait_for()
    page.page.locator(".aiops-markdown", has_text="I called 1 tool(s)").wait_for()
    page.wait_idle()
    page.send("And again?")
    page.page.get_by_role("button", name="Approve get_current_time").nth(1).wait_for()
    page.page.get_by_role("button", name="Reject get_current_time").nth(1).click()
    page.page.locator(".aiops-markdown", has_text="rejected by the user").wait_for()
    page.wait_idle()


def test_the_tenant_picker_chooses_the_tenants_model(visit: Any) -> None:
    page = visit()
    picker = page.page.locator("#aiops-chat-tenant")
    assert picker.locator("option").all_inner_texts() == ["None (shared)", f"{PREFIX}tenant"]
    page.page.select_option("#aiops-chat-tenant", page.site.tenant)
    # The tenant's own default is preselected; the shared models stay on offer.
    assert page.page.input_value("#aiops-chat-model") == page.site.models["tenant"]
    page.send("hello tenant")
    page.page.locator(".aiops-markdown", has_text="You said: hello tenant").wait_for()
    page.wait_idle()
    assert picker.is_disabled()  # the thread keeps its tenant
    status, data = page.api(f"{CONVERSATIONS}?thread_id={page.thread_id()}")
    assert status == 200
    [row] = data["results"]
    assert (row["tenant"]["id"], row["llm_model"]["id"]) == (
        page.site.tenant,
        page.site.models["tenant"],
    )
    # bob may view no tenant: no picker, and the tenant's model is not offered.
    other = visit("bob")
    assert other.page.locator("#aiops-chat-tenant").count() == 0
    assert page.site.models["tenant"] not in other.page.locator(
        "#aiops-chat-model option"
    ).evaluate_all("options => options.map(o => o.value)")


def test_reload_reopen_from_the_sidebar_and_clear(visit: Any) -> None:
    page = visit()
    page.send("Remember the ams01 maintenance", model="assistant")
    page.page.locator(".aiops-markdown", has_text="I called").wait_for()
    page.wait_idle()
    thread_id = page.thread_id()
    page.page.reload()
    page.page.locator(".aiops-msg-user", has_text="ams01 maintenance").wait_for()
    assert page.page.input_value("#aiops-chat-model") == page.site.models["assistant"]
    assert page.page.locator("#aiops-chat-model").is_disabled()  # the conversation keeps it
    # A fresh browser of the same user: the sidebar reopens it from the server.
    other = visit()
    other.page.locator(".aiops-history-open", has_text="Conversation").first.wait_for()
    row = other.page.locator(".aiops-history-item").filter(has_text=PREFIX + "assistant").first
    row.locator(".aiops-history-open").click()
    other.page.locator(".aiops-msg-user", has_text="ams01 maintenance").wait_for()
    other.page.locator(".aiops-tool-name", has_text="get_current_time").first.wait_for()
    assert other.thread_id() == thread_id
    # Clear deletes the server's thread too.
    assert stored_thread(thread_id) is not None
    other.page.click("#aiops-chat-clear")
    other.page.locator("#aiops-chat-notice", has_text="cleared").wait_for()
    assert other.page.locator(".aiops-msg").count() == 0
    status, data = other.api(f"{CONVERSATIONS}?thread_id={thread_id}")
    assert (status, data["count"]) == (200, 0)
    assert stored_thread(thread_id) is None


def test_inactivity_clears_both_sides_and_old_messages_are_dropped_on_load(visit: Any) -> None:
    page = visit(clock=True)
    page.send("Short-lived question", model="assistant")
    page.page.locator(".aiops-markdown", has_text="I called").wait_for()
    page.wait_idle()
    thread_id = page.thread_id()
    page.page.locator(".aiops-history-item.active").wait_for()
    page.page.clock.fast_forward(f"{TTL_MINUTES:02d}:05")
    page.page.locator("#aiops-chat-notice", has_text="without activity").wait_for()
    assert page.page.locator(".aiops-msg").count() == 0
    status, data = page.api(f"{CONVERSATIONS}?thread_id={thread_id}")
    assert (status, data["count"]) == (200, 0)
    assert stored_thread(thread_id) is None
    # A stored copy older than the TTL plus grace is dropped when the page loads.
    key = page.storage_key()
    old = {"threadId": "old-thread", "transcript": [{"role": "user", "text": "stale text"}]}
    old["lastActivity"] = page.page.evaluate("Date.now()") - (TTL_MINUTES + 6) * 60_000
    page.page.evaluate("([k, v]) => localStorage.setItem(k, v)", [key, json.dumps(old)])
    page.page.reload()
    page.page.wait_for_selector("#aiops-chat-input")
    assert "stale text" not in page.page.locator("#aiops-chat-log").inner_text()
    assert page.page.evaluate("k => localStorage.getItem(k)", key) in (None, "null") or (
        "stale text" not in page.page.evaluate("k => localStorage.getItem(k)", key)
    )


def test_a_second_user_of_the_same_browser_sees_nothing(browser: Any, site: Site) -> None:
    page = Visit(browser, site).login("alice")
    try:
        page.send("alice's secret plan", model="assistant")
        page.page.locator(".aiops-markdown", has_text="I called").wait_for()
        page.wait_idle()
        page.page.goto("/logout/")
        page.login("bob")
        page.page.wait_for_selector("#aiops-chat-history-empty:not([hidden])")
        assert "secret plan" not in page.page.content()
        assert page.page.locator(".aiops-msg").count() == 0
        status, data = page.api(CONVERSATIONS)
        assert (status, data["count"]) == (200, 0)
        assert page.errors == []
    finally:
        page.close()


def test_xss_corpus_renders_inert(visit: Any) -> None:
    page = visit(theme="dark")
    page.send("xss please", model="scripted")
    page.page.locator(".aiops-markdown", has_text="safe link").wait_for()
    page.wait_idle()
    log = page.page.locator("#aiops-chat-log")
    tool = page.page.locator(".aiops-tool").first
    tool.locator("summary").first.click()
    # The payload the MCP server repeats in its error is shown as text.
    assert "onerror" in tool.inner_text() or XSS_TOOL_ARGUMENT[:20] in tool.inner_text()
    page.shot("chat-xss-dark")
    assert page.dialogs == []
    assert page.page.evaluate("window.__xss") is None
    assert log.locator("script, img, svg, iframe, style, object, embed, form").count() == 0
    handlers = page.page.evaluate(
        """() => [...document.querySelectorAll('#aiops-chat-log *')]
            .flatMap(e => [...e.attributes].map(a => a.name))
            .filter(n => n.startsWith('on'))"""
    )
    assert handlers == []
    hrefs = page.page.evaluate(
        "() => [...document.querySelectorAll('#aiops-chat-log a')].map(a => a.getAttribute('href'))"
    )
    # Unsafe links lose their target (an <a> without href goes nowhere); the safe one stays.
    assert [href for href in hrefs if href is not None] == ["https://docs.nautobot.com/"]
    assert len(hrefs) >= 4
    assert "<script>" in log.inner_text()  # shown as text


def test_measure_first_token_to_paint_and_page_weight(visit: Any) -> None:
    """Not a timing assertion: records the numbers of docs/admin/chat.md in
    ``build/browser-artifacts/chat-page-metrics.json`` (and takes the README's screenshot)."""
    page = visit()
    weights: dict[str, int] = {}

    page.send("What time is it in Amsterdam?", model="scripted")
    page.page.locator(".aiops-markdown", has_text="Amsterdam").wait_for()
    page.wait_idle()
    page.page.locator(".aiops-history-item.active").wait_for()
    page.shot("chat-page-readme")
    log = page.page.locator("#aiops-chat-log").inner_text()
    assert " done in " in page.page.locator(".aiops-tool-state").first.inner_text(timeout=1000), log

    page.page.on(
        "response",
        lambda r: (
            weights.__setitem__(r.url, len(r.body()))
            if r.request.resource_type in ("script", "stylesheet")
            else None
        ),
    )
    page.page.reload()
    page.page.wait_for_selector("#aiops-chat-input")
    latencies = []
    for _ in range(TURNS):
        page.page.click("#aiops-chat-new")
        page.send("stamp", model="scripted")
        text = page.page.locator(".aiops-markdown", has_text="stamp:").last
        text.wait_for()
        page.wait_idle()
        stamp = float(re.search(r"stamp:(\d+\.\d)", text.inner_text()).group(1))
        painted = page.page.evaluate("performance.timeOrigin + window.aiopsChatFirstPaint")
        latencies.append(painted - stamp)
    assert all(latency > 0 for latency in latencies)  # painted after it was produced
    app = {url: size for url, size in weights.items() if "/aiops_nautobot/" in url}
    metrics = {
        "first_token_to_paint_ms": sorted(round(v, 1) for v in latencies),
        "app_js_css_bytes": sum(app.values()),
        "app_assets": {url.rsplit("/static/", 1)[-1]: size for url, size in app.items()},
        "all_js_css_bytes": sum(weights.values()),
    }
    (ARTIFACTS / "chat-page-metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics))


def in_thread(work: Any) -> Any:
    """Runs ORM ``work`` in a thread of its own (Playwright's sync API keeps an event loop in
    this one, where Django refuses synchronous queries); the rows are committed."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def run() -> Any:
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def test_remaining_budget_is_shown_and_follows_the_answers(
    visit: Any, site: Site, django_db_blocker: Any
) -> None:
    from decimal import Decimal

    from django.utils import timezone

    from aiops_nautobot.models import Budget, LLMModel, UsageRecord

    bob = site.users["bob"]
    assistant = LLMModel.objects.filter(pk=site.models["assistant"])

    def set_up() -> None:
        assistant.update(input_price=Decimal("1"), output_price=Decimal("1"))  # cost > 0, tiny
        Budget.objects.create(name=f"{PREFIX}bob", user=bob, limit=Decimal("5"))

    def spend_elsewhere() -> None:
        UsageRecord.objects.create(
            run_id="elsewhere",
            user=bob,
            model=f"test:{PREFIX}assistant",
            provider="test",
            started_at=timezone.now(),
            latency=0.1,
            cost=Decimal("1.25"),
        )

    def tear_down() -> None:
        Budget.objects.filter(name=f"{PREFIX}bob").delete()
        assistant.update(input_price=None, output_price=None)
        UsageRecord.objects.filter(user=bob).delete()

    with django_db_blocker.unblock():
        in_thread(set_up)
        try:
            page = visit("bob")
            page.page.select_option("#aiops-chat-model", site.models["assistant"])
            badge = page.page.locator("#aiops-chat-budget")
            badge.wait_for()
            assert badge.inner_text() == "Budget left: $5.00"
            in_thread(spend_elsewhere)  # spent in another tab since the page loaded
            page.send("What time is it?")
            page.page.locator(".aiops-markdown", has_text="I called").wait_for()
            page.wait_idle()
            page.page.locator("#aiops-chat-budget", has_text="Budget left: $3.75").wait_for()
        finally:
            in_thread(tear_down)
