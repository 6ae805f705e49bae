"""The default model's provider reachability check, against a real local HTTP server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

from django.core.cache import cache
from health_check.plugins import plugin_dir
from nautobot.apps.testing import TestCase
from nautobot.extras.models import Secret

from aiops_nautobot.health_checks import LLMProviderHealthCheck
from aiops_nautobot.models import LLMModel, LLMProvider
from aiops_nautobot.services.provider_health import _CACHE_KEY, probe_default_provider

from ..engine_fixtures import offline_model

KEY_VARIABLE = "AIOPS_TEST_PROVIDER_HEALTH_KEY"


class _Answer401(BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self):
        self.seen.append(dict(self.headers))
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def provider_server() -> Iterator[str]:
    """A local "provider" that answers every request with 401 (reachable, no key needed)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer401)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def default_openai_model(base_url: str) -> LLMModel:
    """The default model on ``openai`` at ``base_url``, its API key (``s3cret``) in a Secret."""
    provider, _ = LLMProvider.objects.get_or_create(name="openai")
    key = Secret.objects.create(
        name="provider-key", provider="environment-variable", parameters={"variable": KEY_VARIABLE}
    )
    return LLMModel.objects.create(
        provider=provider,
        name="gpt-4o-mini",
        is_default=True,
        api_key_secret=key,
        config={"base_url": base_url},
    )


class ProviderHealthTest(TestCase):
    def setUp(self):
        super().setUp()
        cache.delete(_CACHE_KEY)
        self.addCleanup(cache.delete, _CACHE_KEY)
        environment = mock.patch.dict("os.environ", {KEY_VARIABLE: "s3cret"})
        environment.start()
        self.addCleanup(environment.stop)

    def test_registered_with_nautobot(self):
        self.assertIn(LLMProviderHealthCheck, {cls for cls, _ in plugin_dir._registry})

    def test_reachable_provider_any_http_answer_no_credentials_sent(self):
        with provider_server() as url:
            default_openai_model(url)
            probe = probe_default_provider()
        self.assertTrue(probe.ok, probe.message)
        self.assertIn("HTTP 401", probe.message)
        self.assertNotIn("s3cret", probe.message)
        self.assertNotIn("s3cret", str(_Answer401.seen[-1]))  # no key, no Authorization header

    def test_unreachable_provider_is_named_without_secrets_and_cached(self):
        default_openai_model(f"http://127.0.0.1:{closed_port()}/v1")
        check = LLMProviderHealthCheck()
        check.run_check()
        [error] = check.errors
        self.assertIn("openai:gpt-4o-mini at http://127.0.0.1:", str(error))
        self.assertIn("ConnectError", str(error))
        self.assertNotIn("s3cret", str(error))
        self.assertFalse(check.critical_service)
        # Cached: a repaired provider shows up after the cache time, not on the next scrape.
        with provider_server() as url:
            LLMModel.objects.filter(is_default=True).update(config={"base_url": url})
            self.assertFalse(probe_default_provider().ok)
            self.assertTrue(probe_default_provider(use_cache=False).ok)

    def test_in_process_provider_is_reachable(self):
        offline_model("assistant")
        self.assertTrue(probe_default_provider().ok)

    def test_disabled_provider_says_what_to_do(self):
        with provider_server() as url:
            model = default_openai_model(url)
            LLMProvider.objects.filter(pk=model.provider_id).update(enabled=False)
            probe = probe_default_provider()
        self.assertFalse(probe.ok)
        self.assertIn("disabled", probe.message)
