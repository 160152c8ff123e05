"""Malformed requests of every kind, and the exact answer each one gets.

Each row is one request and what the mock must answer: the status, the OAuth error code (JSON
errors), and a fragment of the error description, of the HTML error page, or of the redirect
target. None of them may be a 500, and every one is journalled as refused.
"""

from __future__ import annotations

import base64
import dataclasses
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mock_ims.protocol import jws
from mock_ims.protocol.keys import ACCESS_KID, KeySet
from mock_ims.protocol.pkce import s256
from mock_ims.state.context import Context
from tests.conftest import BASE
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, VERIFIER

pytestmark = pytest.mark.anyio

FORM = "application/x-www-form-urlencoded"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
CC = b"grant_type=client_credentials"
AUTHORIZE = (
    f"client_id={CLIENT_ID}&redirect_uri={quote('http://localhost:8000/callback', safe='')}"
    f"&scope=openid&response_type=code&state=xyz&code_challenge={s256(VERIFIER)}&code_challenge_method=S256"
)


def multipart(*parts: bytes, boundary: str = "b0undary") -> tuple[bytes, str]:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary.encode() + b"--\r\n", f"multipart/form-data; boundary={boundary}"


def field_part(name: str, value: bytes, extra: str = "") -> bytes:
    return f'Content-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode() + value


MP_FILE = multipart(field_part("grant_type", b"client_credentials", '; filename="grant.txt"'))
MP_BAD_UTF8 = multipart(field_part("grant_type", b"\xff\xfe"))
MP_REPEATED = multipart(field_part("grant_type", b"client_credentials"), field_part("grant_type", b"x"))
MP_NO_NAME = multipart(b"Content-Disposition: form-data\r\n\r\nclient_credentials")
MP_NUL = multipart(field_part("grant_type", b"client\x00credentials"))
MP_TRUNCATED = (
    b"--b0undary\r\n" + field_part("grant_type", b"client_credentials"),
    "multipart/form-data; boundary=b0undary",
)


Prepare = Callable[[httpx.AsyncClient], Awaitable[dict[str, str]]]
HOUR = 3600


def forged(header: dict[str, object], claims: dict[str, object], signature: bytes) -> str:
    """A JWT as an attacker makes it: any header and claims, any signature."""
    encode = jws.b64url_encode
    signing_input = f"{encode(json.dumps(header).encode())}.{encode(json.dumps(claims).encode())}"
    return f"{signing_input}.{encode(signature)}"


# Every in-process mock without a data directory signs with these keys.
KEYS = KeySet.ephemeral()
PUBLIC_PEM = (
    KEYS.private[ACCESS_KID].public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
)
ACCESS_CLAIMS = {
    "id": "1700000000000_00000000-0000-4000-8000-000000000000_ue1",
    "type": "access_token",
    "client_id": CLIENT_ID,
    "user_id": "0000@AdobeID",
    "scope": "openid,AdobeID",
    "created_at": "1700000000000",
    "expires_in": "86400000",
    "mock": True,
}
ALG_NONE = forged({"alg": "none", "kid": ACCESS_KID}, ACCESS_CLAIMS, b"")
ALG_NONE_REFRESH = forged({"alg": "none"}, {**ACCESS_CLAIMS, "type": "refresh_token"}, b"")


def _hs256_with_public_key() -> str:
    header = {"alg": "HS256", "kid": ACCESS_KID}
    unsigned = forged(header, ACCESS_CLAIMS, b"").rstrip(".")
    return forged(header, ACCESS_CLAIMS, hmac.new(PUBLIC_PEM, unsigned.encode(), "sha256").digest())


HS256_PUBLIC_KEY = _hs256_with_public_key()
# Genuinely signed by the mock's key, but never issued (not in its ledger).
NEVER_ISSUED = jws.sign(
    {"alg": "RS256", "x5u": f"{ACCESS_KID}.cer", "kid": ACCESS_KID, "itt": "at"},
    ACCESS_CLAIMS,
    KEYS.private[ACCESS_KID],
)
TRUNCATED = NEVER_ISSUED[: len(NEVER_ISSUED) * 2 // 3]


async def mint(ims: httpx.AsyncClient, kind: str, **fields: object) -> dict[str, str]:
    answer = await ims.post("/__admin/tokens", json={"kind": kind, "user": "alice@example.com", **fields})
    assert answer.status_code == 201, answer.text
    minted: dict[str, str] = answer.json()
    return minted


async def move_clock(ims: httpx.AsyncClient, seconds: int) -> None:
    assert (await ims.post("/__admin/clock", json={"advance": seconds})).status_code == 200


async def expired_tokens(ims: httpx.AsyncClient) -> dict[str, str]:
    """An access token, a refresh token and a code, all past their expiry by the mock's clock."""
    access = await mint(ims, "access_token", lifetime=60)
    refresh = await mint(ims, "refresh_token", lifetime=60)
    code = await mint(ims, "authorization_code", redirect_uri=REDIRECT_URI)
    await move_clock(ims, HOUR)
    return {"access": access["token"], "refresh": refresh["token"], "code": code["token"]}


async def future_tokens(ims: httpx.AsyncClient) -> dict[str, str]:
    """Tokens whose created_at is an hour after the mock's present (its clock was moved back)."""
    access = await mint(ims, "access_token")
    refresh = await mint(ims, "refresh_token")
    code = await mint(ims, "authorization_code", redirect_uri=REDIRECT_URI)
    await move_clock(ims, -HOUR)
    return {"access": access["token"], "refresh": refresh["token"], "code": code["token"]}


async def strict_client(ims: httpx.AsyncClient) -> dict[str, str]:
    """A client whose only redirect URI is one exact URL (no pattern)."""
    client = {
        "client_id": "strict-app",
        "client_secret": "strict-secret",
        "redirect_uris": [re.escape(REDIRECT_URI)],
    }
    assert (await ims.post("/__admin/clients", json=client)).status_code == 201
    return {}


def authorize_with(redirect_uri: str, client_id: str = CLIENT_ID) -> bytes:
    return (
        f"client_id={client_id}&redirect_uri={quote(redirect_uri, safe='')}&scope=openid&state=xyz".encode()
    )


REDIRECT_PAGE = "invalid value for parameter redirect_uri"


@dataclass(frozen=True)
class Bad:
    """A request, and the answer it must get."""

    method: str
    path: str
    query: bytes = b""
    body: bytes | None = None
    content_type: str | None = FORM
    headers: dict[str, str | bytes] = field(default_factory=lambda: {"authorization": BASIC})
    # the answer
    status: int = 400
    error: str | None = "invalid_request"  # None: an HTML page (or a redirect, when `location`)
    says: str = ""  # in the error description, the page, or the redirect target
    location: str | None = None  # the start of the redirect target
    answer: dict[str, object] | None = None  # the exact JSON body, for answers that are no error
    outcome: str = "refused"  # as the journal records it
    # Makes what the request refers to (tokens, a client, the clock) in the fresh mock; the
    # values it returns fill the `{name}` placeholders of the query, body and headers.
    prepare: Prepare | None = None


NO_AUTH: dict[str, str | bytes] = {}

CASES: dict[str, Bad] = {
    # ---- repeated and conflicting parameters (RFC 6749 §3.1, §3.2) ----
    "repeated in the query": Bad(
        "POST", "/ims/token/v3", query=b"grant_type=a&grant_type=b", says="parameter grant_type is repeated"
    ),
    "repeated in the body": Bad(
        "POST", "/ims/token/v3", body=CC + b"&" + CC, says="parameter grant_type is repeated"
    ),
    "query and body differ": Bad(
        "POST",
        "/ims/token/v3",
        query=b"grant_type=refresh_token",
        body=CC,
        says="parameter grant_type differs between the query string and the body",
    ),
    "repeated in multipart": Bad(
        "POST",
        "/ims/token/v3",
        body=MP_REPEATED[0],
        content_type=MP_REPEATED[1],
        says="parameter grant_type is repeated",
    ),
    # ---- encodings and characters ----
    "invalid UTF-8 in the query": Bad(
        "POST", "/ims/token/v3", query=b"grant_type=%ff", says="the query string is not valid UTF-8"
    ),
    "raw invalid UTF-8 in the body": Bad(
        "POST", "/ims/token/v3", body=b"grant_type=\xff\xfe", says="the request body is not valid UTF-8"
    ),
    "encoded invalid UTF-8 in the body": Bad(
        "POST", "/ims/token/v3", body=b"grant_type=%C3%28", says="the request body is not valid UTF-8"
    ),
    "invalid UTF-8 in multipart": Bad(
        "POST",
        "/ims/token/v3",
        body=MP_BAD_UTF8[0],
        content_type=MP_BAD_UTF8[1],
        says="parameter grant_type is not valid UTF-8",
    ),
    "NUL in a value": Bad(
        "POST",
        "/ims/token/v3",
        body=b"grant_type=client_credentials%00",
        says="parameter grant_type contains a control character",
    ),
    "CRLF in a value": Bad(
        "POST",
        "/ims/token/v3",
        body=b"grant_type=authorization_code&code=abc%0D%0ASet-Cookie:x=1",
        says="parameter code contains a control character",
    ),
    "control character in a name": Bad(
        "POST", "/ims/token/v3", body=CC + b"&sc%01ope=x", says="contains a control character"
    ),
    "NUL in multipart": Bad(
        "POST",
        "/ims/token/v3",
        body=MP_NUL[0],
        content_type=MP_NUL[1],
        says="parameter grant_type contains a control character",
    ),
    # ---- sizes ----
    "a huge value": Bad(
        "POST",
        "/ims/token/v3",
        body=b"grant_type=authorization_code&code=" + b"c" * 8193,
        says="parameter code is longer than 8192 characters",
    ),
    "a huge name": Bad(
        "POST",
        "/ims/token/v3",
        body=CC + b"&" + b"n" * 129 + b"=1",
        says="a parameter name is longer than 128 characters",
    ),
    "too many parameters": Bad(
        "POST",
        "/ims/token/v3",
        body=b"&".join(b"p%d=1" % i for i in range(65)),
        says="the request body has more than 64 parameters",
    ),
    "a body over 64 KiB": Bad(
        "POST",
        "/ims/token/v3",
        body=CC + b"&pad=" + b"x" * 65536,
        status=413,
        says="the body is larger than 65536 bytes",
    ),
    "a declared length over 64 KiB": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers={"authorization": BASIC, "content-length": "1000000"},
        status=413,
        says="the body is larger than 65536 bytes",
    ),
    "a malformed Content-Length": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers={"authorization": BASIC, "content-length": "12abc"},
        says="malformed Content-Length header",
    ),
    # ---- content types ----
    "a JSON body": Bad(
        "POST",
        "/ims/token/v3",
        body=b'{"grant_type": "client_credentials"}',
        content_type="application/json",
        says="unsupported Content-Type (application/json)",
    ),
    "a text/plain body": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        content_type="text/plain",
        says="unsupported Content-Type (text/plain)",
    ),
    "a body without Content-Type": Bad(
        "POST", "/ims/token/v3", body=CC, content_type=None, says="unsupported Content-Type (no Content-Type)"
    ),
    "a file upload in multipart": Bad(
        "POST",
        "/ims/token/v3",
        body=MP_FILE[0],
        content_type=MP_FILE[1],
        says="parameter grant_type is a file upload",
    ),
    "multipart without a boundary": Bad(
        "POST",
        "/ims/token/v3",
        body=MP_REPEATED[0],
        content_type="multipart/form-data",
        says="the Content-Type has no boundary",
    ),
    "truncated multipart": Bad(
        "POST",
        "/ims/token/v3",
        body=MP_TRUNCATED[0],
        content_type=MP_TRUNCATED[1],
        says="it ends before its closing boundary",
    ),
    "a multipart part without a name": Bad(
        "POST",
        "/ims/token/v3",
        body=MP_NO_NAME[0],
        content_type=MP_NO_NAME[1],
        says="a part has no Content-Disposition",
    ),
    # ---- client authentication ----
    "Basic that is not base64": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers={"authorization": "Basic !!!"},
        error="invalid_client",
        says="malformed HTTP Basic credentials",
    ),
    "Basic without a colon": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers={"authorization": "Basic " + base64.b64encode(b"mock-partner-app").decode()},
        error="invalid_client",
        says="no ':' separator",
    ),
    "Basic with non-ASCII bytes": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers={"authorization": b"Basic \xc3\xa9\xff"},
        error="invalid_client",
        says="malformed HTTP Basic credentials",
    ),
    "Basic that is not UTF-8": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers={"authorization": "Basic " + base64.b64encode(b"mock-partner-app:\xff").decode()},
        error="invalid_client",
        says="malformed HTTP Basic credentials",
    ),
    "Basic and client_secret": Bad(
        "POST",
        "/ims/token/v3",
        body=CC + b"&client_secret=" + CLIENT_SECRET.encode(),
        says="client authenticated twice",
    ),
    "Basic and another client_id": Bad(
        "POST",
        "/ims/token/v3",
        body=CC + b"&client_id=someone-else",
        error="invalid_client",
        says="client_id differs from the HTTP Basic credentials",
    ),
    "no client authentication": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers=NO_AUTH,
        error="invalid_client",
        says="missing client_id parameter",
    ),
    "an unknown client": Bad(
        "POST",
        "/ims/token/v3",
        body=CC + b"&client_id=nobody&client_secret=x",
        headers=NO_AUTH,
        error="invalid_client",
        says="invalid client_id parameter",
    ),
    # ---- methods and the grant ----
    "GET on the token endpoint": Bad(
        "GET", "/ims/token/v3", query=CC, body=None, status=405, says="the token endpoint takes POST"
    ),
    "PUT on the token endpoint": Bad(
        "PUT",
        "/ims/token",
        body=CC,
        status=405,
        says="PUT is not served at /ims/token; allowed: GET, HEAD, POST",
    ),
    "no grant_type": Bad(
        "POST", "/ims/token/v3", body=b"scope=openid", says="missing required parameter: grant_type"
    ),
    "an empty grant_type": Bad(
        "POST", "/ims/token/v3", body=b"grant_type=", says="missing required parameter: grant_type"
    ),
    "an unknown grant_type": Bad(
        "POST",
        "/ims/token/v3",
        body=b"grant_type=password",
        error="unsupported_grant_type",
        says="grant_type 'password' is not supported",
    ),
    "a grant_type with a suffix": Bad(
        "POST",
        "/ims/token/v2",
        body=b"grant_type=client_credentials;x=1",
        error="unsupported_grant_type",
        says="is not supported",
    ),
    "a code grant without a code": Bad(
        "POST",
        "/ims/token/v1",
        body=b"grant_type=authorization_code",
        says="missing required parameter: code",
    ),
    "a refresh without a token": Bad(
        "POST",
        "/ims/token",
        body=b"grant_type=refresh_token",
        says="missing required parameter: refresh_token",
    ),
    "a malformed client_credentials scope": Bad(
        "POST", "/ims/token/v3", body=CC + b"&scope=openid%22", error="invalid_scope", says="malformed scope"
    ),
    # ---- authorize: an HTML page when nothing can be redirected, else a redirect ----
    "authorize: repeated client_id": Bad(
        "GET",
        "/ims/authorize/v2",
        query=AUTHORIZE.encode() + b"&client_id=x",
        headers=NO_AUTH,
        error=None,
        says="parameter client_id is repeated",
    ),
    "authorize: invalid UTF-8": Bad(
        "GET",
        "/ims/authorize/v2",
        query=b"client_id=%ff",
        headers=NO_AUTH,
        error=None,
        says="the query string is not valid UTF-8",
    ),
    "authorize: CRLF in redirect_uri": Bad(
        "GET",
        "/ims/authorize/v2",
        query=b"client_id=mock-partner-app&redirect_uri=http://localhost/%0D%0ALocation:%20https://evil.example/",
        headers=NO_AUTH,
        error=None,
        says="parameter redirect_uri contains a control character",
    ),
    "authorize: a huge state": Bad(
        "GET",
        "/ims/authorize/v1",
        query=AUTHORIZE.encode().replace(b"state=xyz", b"state=" + b"s" * 8193),
        headers=NO_AUTH,
        error=None,
        says="parameter state is longer than 8192 characters",
    ),
    "authorize: a JSON body": Bad(
        "POST",
        "/ims/authorize",
        body=b"{}",
        content_type="application/json",
        headers=NO_AUTH,
        error=None,
        says="unsupported Content-Type (application/json)",
    ),
    "authorize: a body over 64 KiB": Bad(
        "POST",
        "/ims/authorize/v2",
        body=AUTHORIZE.encode() + b"&pad=" + b"x" * 65536,
        headers=NO_AUTH,
        status=413,
        error=None,
        says="the body is larger than 65536 bytes",
    ),
    "authorize: an unknown client": Bad(
        "GET",
        "/ims/authorize/v2",
        query=b"client_id=nobody",
        headers=NO_AUTH,
        error=None,
        says="invalid value for parameter client_id",
    ),
    "authorize: a redirect_uri with userinfo": Bad(
        "GET",
        "/ims/authorize/v2",
        query=AUTHORIZE.replace("http%3A%2F%2Flocalhost", "http%3A%2F%2Flocalhost%40evil.example").encode(),
        headers=NO_AUTH,
        error=None,
        says="invalid value for parameter redirect_uri",
    ),
    "authorize: a state over 4096": Bad(
        "GET",
        "/ims/authorize/v2",
        query=AUTHORIZE.encode().replace(b"state=xyz", b"state=" + b"s" * 4097),
        headers=NO_AUTH,
        status=302,
        error=None,
        location="http://localhost:8000/callback?error=invalid_request&",
        says="state+is+longer+than+4096+characters",
    ),
    "authorize: a quoted scope": Bad(
        "GET",
        "/ims/authorize/v2",
        query=AUTHORIZE.encode().replace(b"scope=openid", b"scope=openid%2C%22x%22"),
        headers=NO_AUTH,
        status=302,
        error=None,
        location="http://localhost:8000/callback?error=invalid_scope&",
        says="&state=xyz",
    ),
    # ---- the login form ----
    "login: GET": Bad(
        "GET",
        "/ims/login",
        headers=NO_AUTH,
        status=405,
        says="GET is not served at /ims/login; allowed: POST",
    ),
    "login: a JSON body": Bad(
        "POST",
        "/ims/login",
        body=b"{}",
        content_type="application/json",
        headers=NO_AUTH,
        error=None,
        says="unsupported Content-Type",
    ),
    "login: an unknown request": Bad(
        "POST",
        "/ims/login",
        body=b"rid=nope&csrf=x&user=alice%40example.com",
        headers=NO_AUTH,
        error=None,
        says="expired or was already used",
    ),
    # ---- bearer tokens ----
    "userinfo: an empty Bearer": Bad(
        "GET",
        "/ims/userinfo/v2",
        headers={"authorization": "Bearer "},
        status=401,
        error="invalid_token",
        says="missing bearer token",
    ),
    "userinfo: a garbage token": Bad(
        "GET",
        "/ims/userinfo/v2",
        headers={"authorization": "Bearer x.y.z"},
        status=401,
        error="invalid_token",
        says="access token malformed",
    ),
    "userinfo: a 9 KiB token": Bad(
        "GET",
        "/ims/userinfo",
        headers={"authorization": "Bearer " + "a" * 9000},
        status=401,
        error="invalid_token",
        says="access token malformed",
    ),
    "profile: Basic instead of Bearer": Bad(
        "GET", "/ims/profile/v1", status=401, error="invalid_token", says="missing bearer token"
    ),
    "profile: POST": Bad(
        "POST", "/ims/profile/v1", body=b"", status=405, says="POST is not served at /ims/profile/v1"
    ),
    # ---- revoke, validate, keys ----
    "revoke: GET": Bad("GET", "/ims/revoke", query=b"token=x", status=405, says="revocation takes POST"),
    "revoke: no token": Bad(
        "POST", "/ims/revoke", body=b"token_type_hint=access_token", says="missing required parameter: token"
    ),
    "validate: no client_id": Bad(
        "POST",
        "/ims/validate_token/v1",
        body=b"token=abc",
        headers=NO_AUTH,
        says="missing required parameter: client_id",
    ),
    "validate: an unknown type": Bad(
        "GET",
        "/ims/validate_token/v1",
        query=b"token=abc&client_id=x&type=id_token",
        headers=NO_AUTH,
        says="type 'id_token' is not one of",
    ),
    "keys: DELETE": Bad(
        "DELETE", "/ims/keys", headers=NO_AUTH, status=405, says="DELETE is not served at /ims/keys"
    ),
    # ---- forged, truncated, expired and future-dated tokens (RFC 7519, RFC 7515) ----
    "userinfo: an alg=none token": Bad(
        "GET",
        "/ims/userinfo/v2",
        headers={"authorization": f"Bearer {ALG_NONE}"},
        status=401,
        error="invalid_token",
        says="access token malformed or not signed by this mock",
    ),
    "userinfo: HS256 signed with the public key": Bad(
        "GET",
        "/ims/userinfo/v2",
        headers={"authorization": f"Bearer {HS256_PUBLIC_KEY}"},
        status=401,
        error="invalid_token",
        says="access token malformed or not signed by this mock",
    ),
    "userinfo: a truncated token": Bad(
        "GET",
        "/ims/userinfo/v2",
        headers={"authorization": f"Bearer {TRUNCATED}"},
        status=401,
        error="invalid_token",
        says="access token malformed or not signed by this mock",
    ),
    "userinfo: a well-signed token never issued": Bad(
        "GET",
        "/ims/userinfo",
        headers={"authorization": f"Bearer {NEVER_ISSUED}"},
        status=401,
        error="invalid_token",
        says="access token unknown to this mock",
    ),
    "token: an alg=none refresh token": Bad(
        "POST",
        "/ims/token/v3",
        body=f"grant_type=refresh_token&refresh_token={ALG_NONE_REFRESH}".encode(),
        error="invalid_grant",
        says="invalid refresh token",
    ),
    "token: an HS256 code": Bad(
        "POST",
        "/ims/token/v3",
        body=f"grant_type=authorization_code&code={HS256_PUBLIC_KEY}".encode(),
        error="invalid_grant",
        says="invalid authorization code",
    ),
    "validate: an alg=none token": Bad(
        "GET",
        "/ims/validate_token/v1",
        query=f"token={ALG_NONE}&client_id={CLIENT_ID}".encode(),
        headers=NO_AUTH,
        status=200,
        answer={"valid": False, "reason": "malformed or not signed by this mock"},
        outcome="ok",
    ),
    "userinfo: an expired access token": Bad(
        "GET",
        "/ims/userinfo/v2",
        headers={"authorization": "Bearer {access}"},
        status=401,
        error="invalid_token",
        says="access token expired",
        prepare=expired_tokens,
    ),
    "token: an expired refresh token": Bad(
        "POST",
        "/ims/token/v3",
        body=b"grant_type=refresh_token&refresh_token={refresh}",
        error="invalid_grant",
        says="invalid refresh token",
        prepare=expired_tokens,
    ),
    "token: an expired code": Bad(
        "POST",
        "/ims/token/v1",
        body=b"grant_type=authorization_code&code={code}",
        error="invalid_grant",
        says="invalid authorization code",
        prepare=expired_tokens,
    ),
    "userinfo: a token from the mock's future": Bad(
        "GET",
        "/ims/userinfo/v2",
        headers={"authorization": "Bearer {access}"},
        status=401,
        error="invalid_token",
        says="access token not yet valid (issued after the mock's current time)",
        prepare=future_tokens,
    ),
    "token: a refresh token from the mock's future": Bad(
        "POST",
        "/ims/token/v3",
        body=b"grant_type=refresh_token&refresh_token={refresh}",
        error="invalid_grant",
        says="invalid refresh token",
        prepare=future_tokens,
    ),
    "token: a code from the mock's future": Bad(
        "POST",
        "/ims/token/v3",
        body=b"grant_type=authorization_code&code={code}",
        error="invalid_grant",
        says="invalid authorization code",
        prepare=future_tokens,
    ),
    "validate: a token from the mock's future": Bad(
        "POST",
        "/ims/validate_token/v1",
        body=f"token={{access}}&client_id={CLIENT_ID}".encode(),
        headers=NO_AUTH,
        status=200,
        answer={"valid": False, "reason": "not yet valid (issued after the mock's current time)"},
        outcome="ok",
        prepare=future_tokens,
    ),
    # ---- open redirects: lookalike hosts, userinfo, encodings, encoded `..` ----
    "authorize: a lookalike subdomain": Bad(
        "GET",
        "/ims/authorize/v2",
        query=authorize_with("http://localhost.evil.example/callback"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
    ),
    "authorize: loopback as a subdomain": Bad(
        "GET",
        "/ims/authorize/v2",
        query=authorize_with("http://127.0.0.1.nip.io/callback"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
    ),
    "authorize: a Cyrillic lookalike host": Bad(
        "GET",
        "/ims/authorize/v2",
        query=authorize_with("http://l\u043ecalhost:8000/callback"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
    ),
    "authorize: a percent-encoded dot in the host": Bad(
        "GET",
        "/ims/authorize/v2",
        query=authorize_with("http://localhost%2eevil.example/callback"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
    ),
    "authorize: a backslash before the host": Bad(
        "GET",
        "/ims/authorize/v1",
        query=authorize_with("http://evil.example\\@localhost:8000/callback"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
    ),
    "authorize: a port that is a host": Bad(
        "GET",
        "/ims/authorize",
        query=authorize_with("http://localhost:8000.evil.example/callback"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
    ),
    "authorize: a fragment smuggling a host": Bad(
        "GET",
        "/ims/authorize/v2",
        query=authorize_with("http://evil.example#@localhost:8000/callback"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
    ),
    "authorize: `..` out of an exact redirect URI": Bad(
        "GET",
        "/ims/authorize/v2",
        query=authorize_with(REDIRECT_URI + "/../evil", client_id="strict-app"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
        prepare=strict_client,
    ),
    "authorize: an encoded `..` out of an exact redirect URI": Bad(
        "GET",
        "/ims/authorize/v2",
        query=authorize_with(REDIRECT_URI + "/%2e%2e/evil", client_id="strict-app"),
        headers=NO_AUTH,
        error=None,
        says=REDIRECT_PAGE,
        prepare=strict_client,
    ),
    "logout: a lookalike return address": Bad(
        "GET",
        "/ims/logout/v1",
        query=f"client_id={CLIENT_ID}&redirect_uri={quote('http://localhost.evil.example/bye', safe='')}".encode(),
        headers=NO_AUTH,
        status=200,
        error=None,
        says="The application&#x27;s return address was not recognised.",
        outcome="ok",
    ),
    "an encoded `..` in the path": Bad(
        "GET",
        "/ims/%2e%2e/__admin/journal",
        headers=NO_AUTH,
        status=404,
        error="not_found",
        says="no IMS endpoint at /ims/../__admin/journal",
    ),
    "an encoded `..` after an endpoint": Bad(
        "POST",
        "/ims/token/v3/%2e%2e",
        body=CC,
        status=404,
        error="not_found",
        says="no IMS endpoint at /ims/token/v3/..",
    ),
    # ---- CRLF and NUL, in parameters and in credentials ----
    "authorize: CRLF in state": Bad(
        "GET",
        "/ims/authorize/v2",
        query=AUTHORIZE.encode().replace(b"state=xyz", b"state=x%0D%0ASet-Cookie:%20a=1"),
        headers=NO_AUTH,
        error=None,
        says="parameter state contains a control character",
    ),
    "authorize: NUL in client_id": Bad(
        "GET",
        "/ims/authorize/v2",
        query=b"client_id=mock-partner-app%00",
        headers=NO_AUTH,
        error=None,
        says="parameter client_id contains a control character",
    ),
    "validate: a control character in X-IMS-ClientId": Bad(
        "GET",
        "/ims/validate_token/v1",
        query=b"token=abc",
        headers={"x-ims-clientid": "mock-partner-app\x01"},
        says="parameter X-IMS-ClientId contains a control character",
    ),
    "CRLF inside Basic credentials": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers={"authorization": "Basic " + base64.b64encode(b"mock-partner-app\r\n:x").decode()},
        error="invalid_client",
        says="invalid client_id parameter",
    ),
    "NUL inside Basic credentials": Bad(
        "POST",
        "/ims/token/v3",
        body=CC,
        headers={
            "authorization": "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}\x00".encode()).decode()
        },
        error="invalid_client",
        says="invalid client_secret parameter",
    ),
    # ---- more duplicates, JSON and other bodies where a form is expected ----
    "authorize: repeated redirect_uri": Bad(
        "GET",
        "/ims/authorize/v2",
        query=AUTHORIZE.encode() + b"&redirect_uri=http%3A%2F%2Flocalhost%3A8000%2Fother",
        headers=NO_AUTH,
        error=None,
        says="parameter redirect_uri is repeated",
    ),
    "revoke: repeated token": Bad(
        "POST", "/ims/revoke", body=b"token=a&token=b", says="parameter token is repeated"
    ),
    "revoke: a JSON body": Bad(
        "POST",
        "/ims/revoke",
        body=b'{"token": "abc"}',
        content_type="application/json",
        says="unsupported Content-Type (application/json)",
    ),
    "userinfo: a JSON body": Bad(
        "POST",
        "/ims/userinfo/v2",
        body=b'{"access_token": "abc"}',
        content_type="application/json",
        headers=NO_AUTH,
        says="unsupported Content-Type (application/json)",
    ),
    "JSON sent as a form": Bad(
        "POST",
        "/ims/token/v3",
        body=b'{"grant_type": "client_credentials"}',
        says="missing required parameter: grant_type",
    ),
    "a Latin-1 form": Bad(
        "POST",
        "/ims/token/v3",
        body=CC + b"&scope=caf\xe9",
        content_type="application/x-www-form-urlencoded; charset=iso-8859-1",
        says="the request body is not valid UTF-8",
    ),
    "an XML body": Bad(
        "POST",
        "/ims/token/v3",
        body=b"<grant_type>client_credentials</grant_type>",
        content_type="application/xml",
        says="unsupported Content-Type (application/xml)",
    ),
    "an unknown IMS path": Bad(
        "GET",
        "/ims/tokens/v3",
        headers=NO_AUTH,
        status=404,
        error="not_found",
        says="no IMS endpoint at /ims/tokens/v3",
    ),
}


async def prepared(client: httpx.AsyncClient, case: Bad) -> Bad:
    """The case with its placeholders filled from what `prepare` made in this mock."""
    if case.prepare is None:
        return case
    values = await case.prepare(client)

    def fill(text: str) -> str:
        for name, value in values.items():
            text = text.replace(f"{{{name}}}", value)
        return text

    def fill_bytes(raw: bytes | None) -> bytes | None:
        return None if raw is None else fill(raw.decode("latin-1")).encode("latin-1")

    headers = {k: fill(v) if isinstance(v, str) else v for k, v in case.headers.items()}
    return dataclasses.replace(
        case, query=fill_bytes(case.query) or b"", body=fill_bytes(case.body), headers=headers, prepare=None
    )


def build(client: httpx.AsyncClient, case: Bad) -> httpx.Request:
    url = (
        httpx.URL(BASE + case.path).copy_with(query=case.query) if case.query else httpx.URL(BASE + case.path)
    )
    headers: dict[str, str | bytes] = dict(case.headers)
    if case.body is not None and case.content_type is not None:
        headers["content-type"] = case.content_type
    return client.build_request(case.method, url, content=case.body, headers=headers)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_a_bad_request_gets_its_exact_answer(
    ims: httpx.AsyncClient, ims_context: Context, case: Bad
) -> None:
    response = await ims.send(build(ims, await prepared(ims, case)))
    assert response.status_code == case.status, response.text[:500]
    if case.answer is not None:
        assert response.json() == case.answer
    elif case.location is not None:
        location = response.headers["location"]
        assert location.startswith(case.location)
        assert case.says in location
    elif case.error is None:
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "location" not in response.headers
        assert case.says in response.text
    else:
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert set(body) == {"error", "error_description"}
        assert body["error"] == case.error
        assert case.says in body["error_description"]
    entry = (await ims_context.journal.entries())[-1]
    path = httpx.URL(BASE + case.path).path  # as the mock saw it: percent-decoded
    assert (entry["path"], entry["outcome"], entry["status"]) == (path, case.outcome, case.status)


def test_the_table_is_at_least_sixty_rows() -> None:
    assert len(CASES) >= 60
