"""Properties of the mock's parsers and token formats, over inputs Hypothesis makes up.

Each property says what holds for every input, not for a few examples: scopes survive a round
trip, a redirect URI that matches the default client's patterns is always on loopback, any bytes
given to the request parser either parse or are an `invalid_request`, and a signed token with
any byte changed or cut short never verifies.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import string
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from mock_ims.config import ClientConfig, default_config
from mock_ims.http.params import MAX_FIELDS, MAX_VALUE_LENGTH, parse_urlencoded, read_params
from mock_ims.protocol import jws, redirects
from mock_ims.protocol.errors import InvalidClientError, InvalidRequestError
from mock_ims.protocol.keys import ACCESS_KID, KeySet
from mock_ims.protocol.pkce import s256
from mock_ims.protocol.pkce import verify as verify_pkce
from mock_ims.protocol.scopes import MAX_SCOPES, ScopeError, format_scope, parse_scope
from mock_ims.protocol.tokens import TokenKind, TokenRecord, TokenSigner
from mock_ims.state.journal import mask_params, mask_token

KEYS = KeySet.ephemeral()
SIGNER = TokenSigner(KEYS)
DEFAULT_CLIENT = default_config().default_client
LOOPBACK = {"localhost", "127.0.0.1"}

# ---- scopes (RFC 6749 §3.3, minus the comma IMS splits on) ------------------------------------

SCOPE_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\,')
scope_tokens = st.text(alphabet=SCOPE_CHARS, min_size=1, max_size=20)
scope_lists = st.lists(scope_tokens, max_size=MAX_SCOPES, unique=True)


@given(scope_lists)
def test_a_list_of_valid_scopes_survives_formatting_and_parsing(scopes: list[str]) -> None:
    assert parse_scope(format_scope(scopes)) == tuple(scopes)


@given(scope_lists, st.lists(st.sampled_from([" ", ",", ", ", " ,", "  "]), min_size=1))
def test_commas_and_spaces_separate_scopes_alike(scopes: list[str], separators: list[str]) -> None:
    joined = "".join(s + separators[i % len(separators)] for i, s in enumerate(scopes))
    assert parse_scope(joined) == tuple(scopes)


@given(st.lists(scope_tokens, max_size=30))
def test_duplicates_collapse_and_the_first_place_of_each_scope_is_kept(scopes: list[str]) -> None:
    assert parse_scope(" ".join(scopes)) == tuple(dict.fromkeys(scopes))


@given(st.text(max_size=300))
@example("openid,\x00")
@example('openid "x"')
def test_any_text_is_a_tuple_of_valid_scope_names_or_a_scope_error(raw: str) -> None:
    try:
        scopes = parse_scope(raw)
    except ScopeError:
        return
    assert all(re.fullmatch(f"[{re.escape(SCOPE_CHARS)}]+", s) for s in scopes)
    assert parse_scope(format_scope(scopes)) == scopes  # what parses once parses the same again


# ---- redirect URIs (RFC 6749 §3.1.2, IMS's patterns) ----------------------------------------------

hosts = st.sampled_from(
    [
        "localhost",
        "127.0.0.1",
        "localhost.evil.example",
        "evil.example",
        "localhost@evil.example",
        "evil.example#localhost",
        "127.0.0.1.nip.io",
        "[::1]",
        "LOCALHOST",
        "xn--localhost-8db",
        "localhost%2eevil.example",
        "localhost\\@evil.example",
    ]
)
url_parts = st.text(alphabet=string.printable + "\u00e9\u0430\uff0e\u2024", max_size=12)


@st.composite
def uri_like(draw: st.DrawFn) -> str:
    """Strings shaped like redirect URIs, with the pieces open redirects are made of."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "javascript", "", "http:"]))
    userinfo = draw(st.sampled_from(["", "user@", "localhost@", "a:b@"]))
    port = draw(st.sampled_from(["", ":8000", ":0", ":99999", ":x", ":"]))
    path = draw(st.sampled_from(["", "/", "/cb", "/..", "/%2e%2e/", "//evil.example"]))
    tail = draw(url_parts)
    return f"{scheme}://{userinfo}{draw(hosts)}{port}{path}{tail}"


@given(st.one_of(uri_like(), st.text(max_size=200)))
@example("http://localhost:8000/callback")
@example("http://localhost:8000@evil.example/callback")
@example("http://localhost:8000\\@evil.example/callback")
@example("http://localhost/\r\nLocation: https://evil.example/")
def test_a_uri_matching_the_default_clients_patterns_is_always_on_loopback(uri: str) -> None:
    if not redirects.matches(DEFAULT_CLIENT, uri):
        return
    parts = urlsplit(uri)
    assert parts.hostname in LOOPBACK
    assert parts.scheme in ("http", "https")
    assert "@" not in parts.netloc and not parts.fragment


@given(st.one_of(uri_like(), st.text(max_size=200)))
def test_matching_never_raises_and_agrees_with_the_syntax_check(uri: str) -> None:
    anything = ClientConfig(client_id="any", redirect_uris=(".*",))
    try:
        redirects.check_syntax(uri)
        well_formed = True
    except redirects.RedirectURIError:
        well_formed = False
    # With a pattern that takes anything, the syntax check alone decides.
    assert redirects.matches(anything, uri) == well_formed


@st.composite
def well_formed_uris(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z]{2,6}){0,2}", fullmatch=True))
    port = draw(st.sampled_from(["", ":1", ":8000", ":65535"]))
    path = draw(
        st.from_regex(r"(/[A-Za-z0-9._~!$&'()*+,;=:%-]{0,8}){0,3}(\?[A-Za-z0-9=&]{0,10})?", fullmatch=True)
    )
    return f"{scheme}://{host}{port}{path}"


@given(well_formed_uris(), st.one_of(well_formed_uris(), url_parts))
def test_an_exactly_registered_uri_matches_itself_and_no_other_string(registered: str, other: str) -> None:
    assume(registered != other)
    redirects.check_syntax(registered)
    client = ClientConfig(client_id="exact", redirect_uris=(re.escape(registered),))
    assert redirects.matches(client, registered)
    assert not redirects.matches(client, other)
    assert not redirects.matches(client, registered + "/x")
    assert not redirects.matches(client, registered.upper()) or registered.upper() == registered


# ---- token request parsing (mock_ims.http.params) ---------------------------------------------------


@given(st.binary(max_size=2000))
@example(b"a=%ff")
@example(b"a=1&a=2")
@example(b"&".join(b"p%d=1" % i for i in range(MAX_FIELDS + 1)))
def test_any_bytes_given_to_the_form_parser_parse_or_are_an_invalid_request(raw: bytes) -> None:
    try:
        pairs = parse_urlencoded(raw, "request body")
    except InvalidRequestError:
        return
    assert len(pairs) <= MAX_FIELDS
    for name, value in pairs:
        assert isinstance(name, str) and isinstance(value, str)
        assert len(value) <= MAX_VALUE_LENGTH
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in name + value)


parameter_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=50
)  # no control characters, no lone surrogates (not encodable)


@given(st.dictionaries(parameter_text, parameter_text, max_size=MAX_FIELDS))
def test_encoded_parameters_read_back_as_they_were(params: dict[str, str]) -> None:
    assert dict(parse_urlencoded(urlencode(params).encode(), "request body")) == params


def run(coroutine: Awaitable[Any]) -> Any:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def request_with(
    method: str, query: bytes, headers: list[tuple[bytes, bytes]], body: bytes, chunks: int
) -> Request:
    size = max(1, -(-len(body) // chunks))
    pieces = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1}
        for i, piece in enumerate(pieces)
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": method,
        "path": "/ims/token/v3",
        "query_string": query,
        "headers": headers,
    }
    return Request(scope, receive)


header_values = st.one_of(
    st.binary(max_size=80),
    st.sampled_from([b"Basic !!!", b"Basic Og==", b"Bearer ", b"Basic bW9jazo=", b"basic YTpi"]),
)
content_types = st.one_of(
    st.sampled_from(
        [
            b"application/x-www-form-urlencoded",
            b"multipart/form-data; boundary=b",
            b"multipart/form-data",
            b"application/json",
            b"",
        ]
    ),
    st.binary(max_size=60),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["GET", "POST", "PUT"]),
    query=st.binary(max_size=300),
    authorization=st.none() | header_values,
    content_type=st.none() | content_types,
    content_length=st.none() | st.sampled_from([b"0", b"12abc", b"99999999", b"-1", b"\xff"]),
    body=st.binary(max_size=600)
    | st.just(b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--b--\r\n"),
    chunks=st.integers(1, 4),
)
def test_any_request_gives_parameters_or_an_oauth_error_never_anything_else(
    method: str,
    query: bytes,
    authorization: bytes | None,
    content_type: bytes | None,
    content_length: bytes | None,
    body: bytes,
    chunks: int,
) -> None:
    headers = [
        (name, value)
        for name, value in (
            (b"authorization", authorization),
            (b"content-type", content_type),
            (b"content-length", content_length),
        )
        if value is not None
    ]
    try:
        params = run(read_params(request_with(method, query, headers, body, chunks)))
    except (InvalidRequestError, InvalidClientError):
        return
    for name, value in params.values.items():
        assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in name + value)
        assert params.sources[name] in ("query", "body")


# ---- the token formats (mock_ims.protocol.jws, mock_ims.protocol.tokens) -------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
claim_sets = st.dictionaries(st.text(max_size=12), json_values, max_size=8)
PRIVATE = KEYS.private[ACCESS_KID]
PUBLIC = {ACCESS_KID: PRIVATE.public_key()}
HEADER = {"alg": "RS256", "kid": ACCESS_KID}


@settings(max_examples=50)
@given(claim_sets)
def test_a_signed_token_verifies_to_exactly_its_header_and_claims(claims: dict[str, Any]) -> None:
    assert jws.verify(jws.sign(HEADER, claims, PRIVATE), PUBLIC) == (HEADER, claims)


SIGNED = jws.sign(HEADER, {"id": "t1", "type": "access_token", "scope": "openid", "mock": True}, PRIVATE)


@settings(max_examples=1000)
@given(st.integers(0, len(SIGNED) - 1), st.integers(0, 255))
def test_a_token_with_any_byte_changed_never_verifies(position: int, byte: int) -> None:
    raw = bytearray(SIGNED.encode("ascii"))
    assume(raw[position] != byte)
    raw[position] = byte
    with pytest.raises(jws.JWSError):
        jws.verify(raw.decode("latin-1"), PUBLIC)


def test_every_other_character_in_the_last_place_of_the_signature_is_refused() -> None:
    # The last base64url character of a 256-byte signature carries 2 bits; the other 4 must be
    # zero, or 16 spellings of one signature would all verify (they did, before the fix).
    last = SIGNED[-1]
    for char in jws.B64URL_ALPHABET.replace(last, ""):
        with pytest.raises(jws.JWSError):
            jws.verify(SIGNED[:-1] + char, PUBLIC)
    assert jws.verify(SIGNED, PUBLIC)[0] == HEADER


@given(st.integers(0, len(SIGNED) - 1))
def test_a_token_cut_short_anywhere_never_verifies(length: int) -> None:
    with pytest.raises(jws.JWSError):
        jws.verify(SIGNED[:length], PUBLIC)


def forged(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = (
        f"{jws.b64url_encode(json.dumps(header).encode())}.{jws.b64url_encode(json.dumps(claims).encode())}"
    )
    return f"{signing_input}.{jws.b64url_encode(sign(signing_input.encode()))}"


PUBLIC_PEM = PUBLIC[ACCESS_KID].public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


@given(claim_sets, st.sampled_from(["none", "None", "NONE", "HS256", "RS512", "ES256", "", "rs256", "RS256"]))
def test_a_token_not_signed_with_the_private_key_never_verifies(claims: dict[str, Any], alg: str) -> None:
    header = {"alg": alg, "kid": ACCESS_KID}
    unsigned = forged(header, claims, lambda _: b"")  # alg=none: no signature at all
    # The classic confusion: an HMAC keyed with the public key, which anyone can fetch.
    hmac_with_public_key = forged(header, claims, lambda data: hmac.new(PUBLIC_PEM, data, "sha256").digest())
    for token in (unsigned, hmac_with_public_key):
        with pytest.raises(jws.JWSError):
            jws.verify(token, PUBLIC)


@given(st.binary(min_size=1, max_size=300))
def test_base64url_round_trips(data: bytes) -> None:
    assert jws.b64url_decode(jws.b64url_encode(data)) == data


@given(st.text(max_size=400))
def test_any_text_either_verifies_or_is_a_jws_error(text: str) -> None:
    try:
        jws.verify(text, PUBLIC)
    except jws.JWSError:
        return
    raise AssertionError(f"{text!r} verified")


record_fields = st.fixed_dictionaries(
    {
        "kind": st.sampled_from([k.value for k in TokenKind]),
        "client_id": parameter_text,
        "user_id": parameter_text,
        "scope": st.lists(scope_tokens, max_size=5).map(format_scope),
        "created_ms": st.integers(0, 32_503_680_000_000),
        "lifetime_ms": st.integers(1, 100 * 365 * 86_400_000),
        "state": parameter_text,
    }
)


@settings(max_examples=50)
@given(record_fields)
def test_every_token_verifies_says_it_is_a_mock_and_is_journalled_by_id_only(fields: dict[str, Any]) -> None:
    token_id = SIGNER.new_id(fields["created_ms"])
    record = TokenRecord(
        id=token_id,
        kind=fields["kind"],
        raw="",
        client_id=fields["client_id"],
        user_id=fields["user_id"],
        scope=fields["scope"],
        created_ms=fields["created_ms"],
        expires_ms=fields["created_ms"] + fields["lifetime_ms"],
        family=token_id,
        state=fields["state"],
    )
    raw = SIGNER.sign(record)
    claims = SIGNER.verify(raw)
    assert claims["mock"] is True
    assert (claims["id"], claims["type"], claims["scope"]) == (token_id, record.kind, record.scope)
    assert int(claims["created_at"]) == record.created_ms
    assert int(claims["expires_in"]) == fields["lifetime_ms"]
    # PyJWT, as a partner would use it, agrees on the signature.
    decoded = jwt.decode(
        raw, key=SIGNER.public_keys[jwt.get_unverified_header(raw)["kid"]], algorithms=["RS256"]
    )
    assert decoded == claims
    assert mask_token(raw) == f"<{record.kind} {token_id}>"
    masked = mask_params({"code": raw, "refresh_token": raw, "client_secret": "s"})
    assert raw not in str(masked) and "s" not in masked["client_secret"].replace("***", "")


@given(st.text(alphabet=string.ascii_letters + string.digits + "-._~", min_size=43, max_size=128))
def test_an_s256_challenge_is_met_by_its_verifier_only(verifier: str) -> None:
    challenge = s256(verifier)
    assert verify_pkce(verifier, challenge, "S256")
    assert not verify_pkce(verifier + "x", challenge, "S256")
    assert quote(challenge, safe="-_") == challenge  # base64url without padding
