"""When an access token expires: by its own `created_at` + `expires_in` (ms strings)."""

from __future__ import annotations

import jwt
import pytest

from reference_client.tokens import TokenResponseError, TokenSet, expiry_of, from_token_response

NOW = 1_700_000_000_000


def ims_like_token(**claims: object) -> str:
    return jwt.encode({"type": "access_token", **claims}, "k" * 32, algorithm="HS256")


def test_the_expiry_is_created_at_plus_expires_in_from_the_token() -> None:
    token = ims_like_token(created_at="1690000000000", expires_in="86400000")
    assert expiry_of(token, 86399, NOW) == 1690000000000 + 86400000


def test_an_opaque_token_expires_by_the_responses_expires_in_seconds() -> None:
    assert expiry_of("opaque", 86399, NOW) == NOW + 86399 * 1000
    assert expiry_of(ims_like_token(created_at="soon"), 60, NOW) == NOW + 60_000
    # "¹" passes str.isdigit() but not int(): still not a time, and no crash
    assert expiry_of(ims_like_token(created_at="\u00b9", expires_in="86400000"), 60, NOW) == NOW + 60_000


def test_with_nothing_to_go_by_a_token_is_trusted_for_an_hour() -> None:
    assert expiry_of("opaque", None, NOW) == NOW + 3_600_000


def test_a_token_is_refreshed_shortly_before_it_expires_never_long_before() -> None:
    day = TokenSet("a", "r", obtained_ms=NOW, expires_at_ms=NOW + 86_400_000)
    assert not day.expired(NOW + 86_400_000 - 10_001)
    assert day.expired(NOW + 86_400_000 - 10_000)
    short = TokenSet("a", "r", obtained_ms=NOW, expires_at_ms=NOW + 20_000)
    assert not short.expired(NOW + 17_999)
    assert short.expired(NOW + 18_000)


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one() -> None:
    body = {"access_token": ims_like_token(), "token_type": "bearer", "expires_in": 86399}
    assert from_token_response(body, NOW, previous_refresh="old-refresh").refresh_token == "old-refresh"
    rotated = from_token_response(
        {**body, "refresh_token": "new-refresh"}, NOW, previous_refresh="old-refresh"
    )
    assert rotated.refresh_token == "new-refresh"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ([], "not a JSON object"),
        ({"token_type": "bearer"}, "no access_token"),
        ({"access_token": "a", "token_type": "mac"}, "not bearer"),
        ({"access_token": "a", "token_type": "bearer", "refresh_token": 5}, "refresh_token is not a string"),
        ({"access_token": "a", "token_type": "bearer", "expires_in": "86399"}, "expires_in is not a number"),
    ],
)
def test_a_malformed_token_response_is_refused_naming_the_field(body: object, says: str) -> None:
    with pytest.raises(TokenResponseError, match=says):
        from_token_response(body, NOW)


def test_the_token_type_is_case_insensitive() -> None:
    assert from_token_response({"access_token": "a", "token_type": "Bearer"}, NOW).access_token == "a"


def test_a_token_set_hides_its_tokens_from_repr() -> None:
    tokens = TokenSet("secret-access", "secret-refresh", obtained_ms=NOW, expires_at_ms=NOW)
    assert "secret" not in repr(tokens)
    assert TokenSet.from_bytes(tokens.to_bytes()) == tokens
