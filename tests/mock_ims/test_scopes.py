"""`mock_ims.protocol.scopes`: IMS scope strings (comma- or space-separated, RFC 6749 §3.3 tokens)."""

from __future__ import annotations

import pytest

from mock_ims.protocol.scopes import ScopeError, format_scope, has_duplicates, parse_scope


@pytest.mark.parametrize(
    ("raw", "scopes"),
    [
        ("openid,AdobeID", ("openid", "AdobeID")),
        ("openid AdobeID", ("openid", "AdobeID")),
        (" openid , AdobeID ,", ("openid", "AdobeID")),
        ("openid,,AdobeID", ("openid", "AdobeID")),
        ("openid,AdobeID,openid", ("openid", "AdobeID")),
        ("", ()),
        (" , ", ()),
        (
            "https://scope.example/read!#$%&'()*+-./:;<=>?@[]^_`{|}~",
            ("https://scope.example/read!#$%&'()*+-./:;<=>?@[]^_`{|}~",),
        ),
    ],
)
def test_parse_splits_on_commas_and_spaces_and_keeps_order(raw: str, scopes: tuple[str, ...]) -> None:
    assert parse_scope(raw) == scopes


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('openid,"quoted"', "'\"quoted\"' is not a valid scope name"),
        ("openid,back\\slash", "is not a valid scope name"),
        ("openid\tAdobeID", "is not a valid scope name"),
        ("caf\u00e9", "is not a valid scope name"),
        ("s" * 4097, "longer than 4096 characters"),
        (",".join(f"s{i}" for i in range(65)), "more than 64 scopes"),
    ],
)
def test_parse_refuses_what_is_not_a_scope_token(raw: str, message: str) -> None:
    with pytest.raises(ScopeError) as caught:
        parse_scope(raw)
    assert message in str(caught.value)


def test_duplicates_are_detected() -> None:
    assert has_duplicates("openid,AdobeID openid")
    assert not has_duplicates("openid,AdobeID")


def test_format_joins_with_commas_as_ims_tokens_do() -> None:
    assert format_scope(("openid", "AdobeID")) == "openid,AdobeID"
    assert format_scope([]) == ""
