"""`mock_ims.protocol.redirects`: redirect URI syntax and full-match patterns."""

from __future__ import annotations

import pytest

from mock_ims.config import ClientConfig
from mock_ims.protocol.redirects import RedirectURIError, check_syntax, matches

CLIENT = ClientConfig(
    client_id="c",
    client_secret="s",
    redirect_uris=(r"https?://localhost(:\d+)?(/.*)?", r"https://partner\.example/callback"),
)


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost/",
        "http://localhost",
        "https://localhost:8443/callback?tab=1",
        "https://partner.example/callback",
    ],
)
def test_a_registered_uri_matches(uri: str) -> None:
    assert matches(CLIENT, uri)


@pytest.mark.parametrize(
    "uri",
    [
        "https://partner.example/callback/extra",  # a full match, not a prefix
        "https://partner.example/callbackX",
        "https://partnerXexample/callback",  # the escaped dot is a dot
        "https://partner.example.evil/callback",
        "http://partner.example/callback",
        "http://localhost.evil.example/",
        "http://localhost@evil.example/",
        "http://localhost:8000/cb#frag",
        "http://localhost\\evil",
        "HTTP://localhost/",  # patterns are case-sensitive, as regular expressions are
    ],
)
def test_anything_else_does_not_match(uri: str) -> None:
    assert not matches(CLIENT, uri)


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://h/" + "a" * 2048, "longer than 2048 characters"),
        ("http://localhost/ cb", "whitespace or control characters"),
        ("http://localhost/\x00", "whitespace or control characters"),
        ("http://localhost/\x7f", "whitespace or control characters"),
        ("http://localhost\\@evil/", "contains a backslash"),
        ("http://[::1/", "not a valid URL"),
        ("http://localhost:99999/", "not a valid URL"),
        ("ftp://localhost/", "must be an absolute http or https URL"),
        ("/callback", "must be an absolute http or https URL"),
        ("http:///callback", "has no host"),
        ("http://user@localhost/", "must not contain user information"),
        ("http://localhost/#", "must not contain a fragment"),
        ("http://localhost/#x", "must not contain a fragment"),
        ("http://localhost:0/", "has port 0"),
    ],
)
def test_check_syntax_says_what_is_wrong(uri: str, message: str) -> None:
    with pytest.raises(RedirectURIError) as caught:
        check_syntax(uri)
    assert message in str(caught.value)


def test_a_well_formed_uri_passes_the_syntax_check() -> None:
    check_syntax("https://localhost:8443/callback?x=1")
