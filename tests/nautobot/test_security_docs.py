"""The PLUGINS_CONFIG examples of docs/admin/security.md are valid and mean what the page says."""

from __future__ import annotations

from django.test import SimpleTestCase, override_settings

from aiops_nautobot.security_config import SecretRef
from aiops_nautobot.settings import get_settings
from aiops_nautobot.url_rules import parse_url
from tests.docs.examples import example


def plugins_config(marker: str) -> dict:
    namespace: dict = {}
    exec(example(marker).code, namespace)
    return namespace["PLUGINS_CONFIG"]


class SecurityDocsTest(SimpleTestCase):
    def test_the_stdio_commands_example(self):
        with override_settings(PLUGINS_CONFIG=plugins_config("stdio-commands-config")):
            commands = get_settings().security.stdio_commands
        self.assertEqual(commands["time"].argv[1:3], ("-m", "mcp_server_time"))
        self.assertEqual(commands["netbox"].env["NETBOX_TOKEN"], SecretRef("netbox-token"))
        self.assertEqual(commands["netbox"].cwd, "/opt/mcp")

    def test_the_production_example(self):
        with override_settings(PLUGINS_CONFIG=plugins_config("security-config")):
            security = get_settings().security

        def allowed(kind: str, url: str) -> bool:
            return any(rule.matches(parse_url(url)) for rule in security.allowed_urls[kind])

        self.assertTrue(allowed("llm", "https://contoso-ai.openai.azure.com/openai"))
        self.assertFalse(allowed("llm", "https://api.anthropic.com"))  # not listed: replaced
        self.assertFalse(allowed("llm", "http://127.0.0.1:11434"))  # PROD: no loopback Ollama
        self.assertTrue(allowed("mcp", "https://tools.internal.example.com:8443/mcp"))
        self.assertFalse(allowed("mcp", "https://tools.internal.example.com/mcp"))  # port 443
        self.assertTrue(allowed("redis", "rediss://cache.internal.example.com:6380/0"))
        self.assertTrue(allowed("redis", get_settings().checkpoint_url))  # "default" kept
        [prefix] = security.token_forwarding_prefixes
        self.assertTrue(prefix.matches(parse_url("https://mcp.internal.example.com/nautobot/mcp")))
        self.assertFalse(prefix.matches(parse_url("https://mcp.internal.example.com/mcp")))
        self.assertEqual(list(security.stdio_commands), ["time"])
