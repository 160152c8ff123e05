"""`mock_ims.config`: the TOML configuration, and errors that name the key at fault."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from mock_ims.config import (
    ClientConfig,
    ConfigError,
    MockConfig,
    UserConfig,
    default_config,
    derive_user_id,
    load_config,
)
from mock_ims.protocol.bodies import ClientRequest, Settings, UserRequest

CLIENT = {"client_id": "partner-app", "client_secret": "s3cret"}
USER = {"email": "alice@example.com", "password": "alice-pass"}


def config_of(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"clients": [dict(CLIENT)], "users": [dict(USER)]}
    data.update(changes)
    return data


def test_the_built_in_configuration_has_one_confidential_client_and_three_users() -> None:
    config = default_config()
    client = config.default_client
    assert client.confidential
    assert set(client.scopes) >= {
        "openid",
        "AdobeID",
        "lr_partner_apis",
        "offline_access",
        "email",
        "profile",
    }
    assert [u.email for u in config.users] == ["alice@example.com", "bob@example.com", "carol@example.com"]


def test_the_issue_example_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "mock.toml"
    path.write_text(
        """
[[clients]]
client_id = "partner-app"
client_secret = "s3cret"
redirect_uris = ['https://localhost:\\d+/callback', 'http://127\\.0\\.0\\.1:\\d+/.*']
scopes = ["openid", "AdobeID", "lr_partner_apis", "offline_access"]
[[users]]
email = "alice@example.com"
password = "alice-pass"
first_name = "Alice"
last_name = "Example"
""",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.default_client.redirect_uris == (
        r"https://localhost:\d+/callback",
        r"http://127\.0\.0\.1:\d+/.*",
    )
    assert config.users[0].display_name == "Alice Example"
    assert config.users[0].user_id == derive_user_id("alice@example.com")


def test_a_user_id_is_derived_from_the_email_like_an_ims_id() -> None:
    user_id = derive_user_id(" Alice@Example.com ")
    assert user_id == derive_user_id("alice@example.com")
    hex_part, _, suffix = user_id.partition("@")
    assert (len(hex_part), suffix) == (24, "AdobeID")
    assert hex_part == hex_part.upper()


def test_a_public_client_has_no_secret() -> None:
    config = MockConfig.from_dict(config_of(clients=[{"client_id": "spa"}]))
    assert not config.default_client.confidential


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (config_of(clients=[]), "config.clients: at least one [[clients]] table is required"),
        (config_of(users="alice"), "config.users: must be a list of [[users]] tables"),
        (config_of(colour="red"), "config: unknown field 'colour'; fields: auto_login, clients,"),
        (
            config_of(clients=["partner-app"]),
            "config.clients[0]: must be a list of [[clients]] tables, not a string",
        ),
        (config_of(clients=[{"client_secret": "x"}]), "clients[0].client_id: is required"),
        (config_of(clients=[{"client_id": ""}]), "clients[0].client_id: '' may only hold letters"),
        (config_of(clients=[{"client_id": 7}]), "clients[0].client_id: must be a string, not a number"),
        (config_of(clients=[{"client_id": "a%2Fb"}]), "clients[0].client_id: 'a%2Fb' may only hold letters"),
        (config_of(clients=[{"client_id": "a b"}]), "clients[0].client_id: 'a b' may only hold letters"),
        (config_of(clients=[{"client_id": "x" * 256}]), "(at most 255)"),
        (config_of(clients=[{**CLIENT, "client_secret": ""}]), "clients[0].client_secret: must not be empty"),
        (
            config_of(clients=[{**CLIENT, "secret": "x"}]),
            "clients[0]: unknown field 'secret'; fields: access_token_lifetime,",
        ),
        (
            config_of(clients=[{**CLIENT, "redirect_uris": "https://x"}]),
            "clients[0].redirect_uris: must be a list",
        ),
        (
            config_of(clients=[{**CLIENT, "redirect_uris": ["ok", "(bad"]}]),
            "clients[0].redirect_uris[1]: invalid regular expression",
        ),
        (
            config_of(clients=[{**CLIENT, "redirect_uris": ["a{4294967296}"]}]),
            "clients[0].redirect_uris[0]: invalid regular expression",
        ),
        (
            config_of(clients=[{**CLIENT, "access_token_lifetime": 10**15}]),
            "clients[0].access_token_lifetime: must be a positive whole number of seconds, at most 3153600000",
        ),
        (config_of(journal_limit=0), "config.journal_limit: must be a positive whole number of entries"),
        (
            config_of(retention_seconds=0),
            "config.retention_seconds: must be a positive whole number of seconds",
        ),
        (config_of(purge_interval_seconds="60"), "config.purge_interval_seconds: must be a positive"),
        (
            config_of(clients=[{**CLIENT, "scopes": ["openid", 'bad"scope']}]),
            "clients[0].scopes[1]: 'bad\"scope' is not a scope name",
        ),
        (
            config_of(clients=[{**CLIENT, "scopes": [1]}]),
            "clients[0].scopes[0]: must be a list of scope names, not a number",
        ),
        (
            config_of(clients=[{**CLIENT, "grant_types": ["password"]}]),
            "clients[0].grant_types[0]: 'password' is not one of",
        ),
        (
            config_of(clients=[{**CLIENT, "access_token_lifetime": 0}]),
            "clients[0].access_token_lifetime: must be a positive",
        ),
        (
            config_of(clients=[{**CLIENT, "refresh_token_lifetime": True}]),
            "clients[0].refresh_token_lifetime: must be a positive",
        ),
        (
            config_of(clients=[{**CLIENT, "refresh_without_offline_access": "yes"}]),
            "clients[0].refresh_without_offline_access: must be true or false",
        ),
        (
            config_of(clients=[{**CLIENT, "name": "a\nb"}]),
            "clients[0].name: must be a string without control characters",
        ),
        (config_of(clients=[CLIENT, CLIENT]), "clients[1].client_id: 'partner-app' appears twice"),
        (config_of(users=[{"password": "x"}]), "users[0].email: is required"),
        (
            config_of(users=[{**USER, "email": "not-an-email"}]),
            "users[0].email: 'not-an-email' is not an email address",
        ),
        (config_of(users=[{"email": "a@example.com"}]), "users[0].password: is required"),
        (config_of(users=[{**USER, "entitlement": "gold"}]), "users[0].entitlement: 'gold' is not one of"),
        (
            config_of(users=[{**USER, "account_type": "type9"}]),
            "users[0].account_type: 'type9' is not one of",
        ),
        (
            config_of(users=[{**USER, "preferred_languages": "en"}]),
            "users[0].preferred_languages: must be a list of strings",
        ),
        (
            config_of(users=[USER, {**USER, "email": "ALICE@example.com"}]),
            "users[1].email: 'alice@example.com' appears twice",
        ),
        (config_of(code_lifetime=-5), "config.code_lifetime: must be a positive"),
        (
            config_of(auto_login="nobody@example.com"),
            "config.auto_login: 'nobody@example.com' is not one of the users",
        ),
        (config_of(issuer="https://ims.example/path"), "config.issuer: must be a scheme and host"),
    ],
)
def test_a_bad_value_is_reported_with_the_key_at_fault(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        MockConfig.from_dict(data)
    assert message in str(caught.value)


def test_a_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "mock.toml"
    path.write_text('[[clients]]\nclient_id = "x"\ngrant_types = ["nope"]\n', encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"mock\.toml: clients\[0\]\.grant_types\[0\]: 'nope' is not one of"
    ):
        load_config(path)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[clients]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml: invalid TOML"):
        load_config(path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_config(tmp_path / "absent.toml")


def test_a_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[[clients]]\nclient_id = "caf\xe9"\n')
    with pytest.raises(ConfigError, match="is not UTF-8"):
        load_config(path)


def test_a_configuration_round_trips_through_its_dict() -> None:
    config = default_config()
    assert MockConfig.from_dict(config.to_dict()) == config


def test_the_file_and_the_admin_api_read_clients_and_users_with_one_model() -> None:
    # mock_ims.protocol.bodies declares what a [[clients]] table and POST /__admin/clients take;
    # the run-time values carry exactly those fields, so neither can drift from the other.
    assert set(ClientRequest.model_fields) == {f.name for f in fields(ClientConfig)}
    assert set(UserRequest.model_fields) == {f.name for f in fields(UserConfig)}
    assert set(Settings.model_fields) == {f.name for f in fields(MockConfig)} - {"extra"}


def test_a_scope_list_is_read_as_the_scope_parser_reads_it() -> None:
    config = MockConfig.from_dict(config_of(clients=[{**CLIENT, "scopes": "openid AdobeID openid"}]))
    assert config.default_client.scopes == ("openid", "AdobeID")
