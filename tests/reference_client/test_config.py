"""Configuration from environment variables: every problem is named, all at once."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from reference_client.config import ConfigError, Settings, load_settings

KEY = base64.b64encode(bytes(range(32))).decode()
MINIMAL = {
    "IMS_BASE_URL": "https://ims-na1.adobelogin.com",
    "IMS_CLIENT_ID": "partner-app",
    "IMS_CLIENT_SECRET": "s3cret",
}


def problems_of(environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    return caught.value.problems


def test_three_variables_are_enough_and_the_rest_have_defaults() -> None:
    settings = load_settings(MINIMAL)
    assert settings.ims_base_url == "https://ims-na1.adobelogin.com"
    assert settings.client_id == "partner-app"
    assert settings.lightroom_base_url == "https://lr.adobe.io"
    assert settings.redirect_uri is None
    assert settings.data_dir == Path("var")
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.http_timeout == 10.0


def test_every_setting_is_read() -> None:
    settings = load_settings(
        {
            **MINIMAL,
            "IMS_BASE_URL": "http://127.0.0.1:8765/",
            "REDIRECT_URI": "https://app.example/callback",
            "LIGHTROOM_BASE_URL": "http://localhost:8766",
            "TOKEN_ENCRYPTION_KEY": KEY,
            "DATA_DIR": "/tmp/somewhere",
            "HOST": "::1",
            "PORT": "0",
            "HTTP_TIMEOUT": "2.5",
        }
    )
    assert settings.ims_base_url == "http://127.0.0.1:8765"
    assert settings.redirect_uri == "https://app.example/callback"
    assert settings.lightroom_base_url == "http://localhost:8766"
    assert settings.encryption_key == bytes(range(32))
    assert settings.data_dir == Path("/tmp/somewhere")
    assert (settings.host, settings.port, settings.http_timeout) == ("::1", 0, 2.5)
    assert settings.secure_cookies


def test_each_missing_required_variable_is_named() -> None:
    problems = problems_of({})
    assert [p.split(":")[0] for p in problems] == ["IMS_BASE_URL", "IMS_CLIENT_ID", "IMS_CLIENT_SECRET"]
    assert all("missing" in p for p in problems)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("IMS_BASE_URL", "ims-na1.adobelogin.com", "not an absolute http(s) URL"),
        ("IMS_BASE_URL", "http://ims.example.com", "plain http on a non-loopback host"),
        ("IMS_BASE_URL", "https://ims.example.com/?x=1", "query"),
        ("IMS_BASE_URL", "https://user:pw@ims.example.com", "credentials"),
        ("REDIRECT_URI", "http://app.example.com/callback", "plain http"),
        ("REDIRECT_URI", "https://app.example.com", "needs a path"),
        ("LIGHTROOM_BASE_URL", "ftp://lr.adobe.io", "not an absolute http(s) URL"),
        ("PORT", "80000", "not a port number"),
        ("PORT", "eighty", "not a port number"),
        ("PORT", "\u00b2", "not a port number"),  # "²": str.isdigit() says yes, int() refuses
        ("HTTP_TIMEOUT", "0", "more than 0"),
        ("HTTP_TIMEOUT", "soon", "not a number"),
        ("HTTP_TIMEOUT", "nan", "more than 0"),
        ("TOKEN_ENCRYPTION_KEY", "not base64!", "not base64"),
        ("TOKEN_ENCRYPTION_KEY", base64.b64encode(b"short").decode(), "5 bytes, not 32"),
        ("TOKEN_ENCRYPTION_KEY_FILE", "/no/such/file", "is not a file"),
    ],
)
def test_a_malformed_value_is_reported_with_its_variable(name: str, value: str, says: str) -> None:
    problems = problems_of({**MINIMAL, name: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}: ")
    assert says in problems[0]


def test_a_url_safe_base64_key_is_accepted() -> None:
    settings = load_settings(
        {**MINIMAL, "TOKEN_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"\xff" * 32).decode()}
    )
    assert settings.encryption_key == b"\xff" * 32


def test_a_key_and_a_key_file_together_are_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text(KEY + "\n")
    problems = problems_of(
        {**MINIMAL, "TOKEN_ENCRYPTION_KEY": KEY, "TOKEN_ENCRYPTION_KEY_FILE": str(key_file)}
    )
    assert problems == [
        "TOKEN_ENCRYPTION_KEY_FILE: set either TOKEN_ENCRYPTION_KEY or TOKEN_ENCRYPTION_KEY_FILE, not both"
    ]


def test_previous_keys_need_a_current_key() -> None:
    problems = problems_of({**MINIMAL, "TOKEN_ENCRYPTION_PREVIOUS_KEYS": KEY})
    assert problems[0].startswith("TOKEN_ENCRYPTION_PREVIOUS_KEYS: only meaningful with TOKEN_ENCRYPTION_KEY")


def test_a_bad_previous_key_is_named_by_its_position() -> None:
    problems = problems_of(
        {**MINIMAL, "TOKEN_ENCRYPTION_KEY": KEY, "TOKEN_ENCRYPTION_PREVIOUS_KEYS": f"{KEY},no!"}
    )
    assert problems == ["TOKEN_ENCRYPTION_PREVIOUS_KEYS: key 2 is not base64"]


def test_all_problems_are_reported_together() -> None:
    problems = problems_of({"IMS_BASE_URL": "nope", "PORT": "-1", "HTTP_TIMEOUT": "999"})
    named = [p.split(":")[0] for p in problems]
    assert named == ["IMS_BASE_URL", "IMS_CLIENT_ID", "IMS_CLIENT_SECRET", "PORT", "HTTP_TIMEOUT"]


def test_secrets_stay_out_of_the_repr() -> None:
    settings = load_settings({**MINIMAL, "TOKEN_ENCRYPTION_KEY": KEY})
    shown = repr(settings)
    assert "s3cret" not in shown
    assert "partner-app" in shown
    assert repr(bytes(range(32))) not in shown


def test_the_redirect_uri_defaults_to_the_bound_url() -> None:
    settings = Settings(ims_base_url="https://ims.example", client_id="c", client_secret="s")
    assert settings.bound_to("http://127.0.0.1:5555").redirect_uri == "http://127.0.0.1:5555/callback"
    given = Settings(
        ims_base_url="https://ims.example",
        client_id="c",
        client_secret="s",
        redirect_uri="https://a.example/cb",
    )
    assert given.bound_to("http://127.0.0.1:5555").redirect_uri == "https://a.example/cb"
