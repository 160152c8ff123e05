"""`mock_ims.protocol.jws`: RS256 compact JWS, and everything else refused."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_ims.protocol import jws
from mock_ims.protocol.keys import KeySet

KEYS = KeySet.ephemeral()
KID = "ims_na1-key-at-1"
HEADER = {"alg": "RS256", "x5u": f"{KID}.cer", "kid": KID, "itt": "at"}
CLAIMS = {"id": "1_abc_ue1", "type": "access_token", "scope": "openid,AdobeID"}


def segment(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def signed(header: dict[str, Any] = HEADER, claims: dict[str, Any] = CLAIMS) -> str:
    return jws.sign(header, claims, KEYS.private[KID])


def test_sign_then_verify_round_trips_and_keeps_the_header_order() -> None:
    token = signed()
    header, claims = jws.verify(token, KEYS.public)
    assert list(header) == ["alg", "x5u", "kid", "itt"]
    assert claims == CLAIMS


def test_tokens_verify_with_pyjwt_and_the_published_jwks() -> None:
    key = jwt.PyJWKSet.from_dict(KEYS.jwks())[KID]
    assert jwt.decode(signed(), key.key, algorithms=["RS256"]) == CLAIMS


def test_unverified_reads_without_a_key() -> None:
    assert jws.unverified(signed()) == (HEADER, CLAIMS)


def refused(token: str, message: str) -> None:
    with pytest.raises(jws.JWSError) as caught:
        jws.verify(token, KEYS.public)
    assert message in str(caught.value)


def test_alg_none_is_refused() -> None:
    token = f"{segment({**HEADER, 'alg': 'none'})}.{segment(CLAIMS)}."
    refused(token, "unsupported alg 'none'")


def test_hs256_with_the_public_key_as_secret_is_refused() -> None:
    # the classic algorithm confusion: HMAC keyed with the RSA public key
    header = segment({**HEADER, "alg": "HS256"})
    token = f"{header}.{segment(CLAIMS)}.{jws.b64url_encode(b'x' * 32)}"
    refused(token, "unsupported alg 'HS256'")


def test_an_unknown_kid_is_refused() -> None:
    refused(signed({**HEADER, "kid": "someone-else"}), "unknown kid 'someone-else'")
    header = {k: v for k, v in HEADER.items() if k != "kid"}
    refused(signed(header), "unknown kid None")


def test_a_tampered_payload_is_refused() -> None:
    header, _, signature = signed().split(".")
    refused(
        f"{header}.{segment({**CLAIMS, 'scope': 'openid,admin'})}.{signature}",
        "the signature does not verify",
    )


def test_a_signature_by_another_key_is_refused() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused(jws.sign(HEADER, CLAIMS, other), "the signature does not verify")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("a.b", "three dot-separated parts"),
        ("a.b.c.d", "three dot-separated parts"),
        ("x" * 16_385, "too long"),
        ("!!!.e30.c2ln", "the header is not base64url-encoded JSON"),
        (f"{segment([1, 2])}.e30.c2ln", "the header is not a JSON object"),
        (f"{segment(HEADER)}..c2ln", "the signature does not verify"),
        (f"{segment(HEADER)}.e30.", "not base64url"),
        (f"{segment(HEADER)}.e30.a", "not base64url"),
    ],
)
def test_malformed_tokens_are_refused(token: str, message: str) -> None:
    refused(token, message)


def test_a_payload_that_is_not_json_is_refused_after_the_signature_check() -> None:
    header = segment(HEADER)
    payload = jws.b64url_encode(b"not json")
    signature = KEYS.private[KID].sign(f"{header}.{payload}".encode(), jws._PADDING, jws._SHA256)
    refused(f"{header}.{payload}.{jws.b64url_encode(signature)}", "the payload is not base64url-encoded JSON")


def test_b64url_decode_refuses_standard_base64_and_padding() -> None:
    for text in ("ab+c", "ab/c", "abc=", ""):
        with pytest.raises(jws.JWSError):
            jws.b64url_decode(text)
    assert jws.b64url_decode("YWJj") == b"abc"
