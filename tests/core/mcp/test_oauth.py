"""OAuthConfig: each grant's required settings, loopback redirect URIs, secrets masked."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aiops_core.errors import UserError
from aiops_core.mcp import MCPServerConfig, OAuthConfig


def test_a_web_application_may_use_an_https_redirect_uri():
    assert (
        OAuthConfig(redirect_uri="https://app.example/cb").redirect_uri == "https://app.example/cb"
    )


def test_the_default_is_an_authorization_code_sign_in_with_a_loopback_callback():
    config = OAuthConfig()
    assert (config.grant, config.redirect_uri) == (
        "authorization_code",
        "http://127.0.0.1:33418/callback",
    )
    assert config.auth_method() == "none"
    assert OAuthConfig(client_id="c", client_secret="s").auth_method() == "client_secret_basic"


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"redirect_uri": "http://app.example/cb"}, "loopback URL with a port"),
        ({"redirect_uri": "http://127.0.0.1/cb"}, "loopback URL with a port"),
        ({"client_metadata_url": "http://x.example/c.json"}, "https URL with a path"),
        ({"client_metadata_url": "https://x.example/"}, "https URL with a path"),
        ({"grant": "client_credentials", "client_id": "c"}, "either client_secret or private_key"),
        (
            {
                "grant": "client_credentials",
                "client_id": "c",
                "client_secret": "s",
                "private_key": "k",
            },
            "either client_secret or private_key",
        ),
        ({"private_key": "k"}, "client_credentials grant only"),
        ({"client_secret": "s"}, "client_secret needs client_id"),
        ({"grant": "jwt_bearer"}, "client_id, client_secret, issuer, assertion"),
        ({"issuer": "ftp://x"}, "http(s) URL"),
    ],
)
def test_mistakes_say_what_to_change(settings, problem):
    with pytest.raises(ValidationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        OAuthConfig(**settings)


def test_a_jwt_bearer_grant_takes_an_assertion_or_an_identity_provider_exchange():
    base = {"grant": "jwt_bearer", "client_id": "c", "client_secret": "s", "issuer": "https://as"}
    OAuthConfig(**base, assertion="jwt")
    OAuthConfig(**base, idp_token_endpoint="https://idp/token", id_token="idt")
    with pytest.raises(ValidationError, match="assertion"):
        OAuthConfig(**base, idp_token_endpoint="https://idp/token")


def test_secrets_are_masked_in_repr_and_dumps():
    server = MCPServerConfig(
        name="s",
        transport="http",
        url="https://mcp.example",
        oauth={"grant": "client_credentials", "client_id": "c", "private_key": "PEM-SECRET"},
    )
    assert "PEM-SECRET" not in repr(server)
    assert "PEM-SECRET" not in server.model_dump_json()
    assert server.oauth.private_key.get_secret_value() == "PEM-SECRET"


def test_oauth_belongs_to_http_servers_and_excludes_a_static_token():
    with pytest.raises(UserError, match="'oauth' is for http/sse servers only"):
        MCPServerConfig.from_dict({"name": "s", "command": "x", "oauth": {}})
    with pytest.raises(UserError, match="either 'auth_token' or 'oauth'"):
        MCPServerConfig.from_dict(
            {"name": "s", "transport": "http", "url": "http://h", "auth_token": "t", "oauth": {}}
        )


def test_oauth_secrets_are_scrubbed_from_messages():
    server = MCPServerConfig(
        name="s",
        transport="http",
        url="https://mcp.example",
        oauth={"grant": "client_credentials", "client_id": "c", "client_secret": "cs-123456"},
    )
    assert "cs-123456" not in server.scrub("token request with cs-123456 refused")
