"""Malformed requests of every kind, and the exact answer each one gets.

Each row is one request and what the mock must answer: the status, the OAuth error code (JSON
errors), and a fragment of the error description, of the HTML error page, or of the redirect
target. None of them may be a 500, and every one is journalled as refused.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx
import pytest

from mock_ims.context import Context
from mock_ims.pkce import s256
from tests.conftest import BASE
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, VERIFIER

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
    "an unknown IMS path": Bad(
        "GET",
        "/ims/tokens/v3",
        headers=NO_AUTH,
        status=404,
        error="not_found",
        says="no IMS endpoint at /ims/tokens/v3",
    ),
}


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
    response = await ims.send(build(ims, case))
    assert response.status_code == case.status, response.text[:500]
    if case.location is not None:
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
    assert (entry["path"], entry["outcome"], entry["status"]) == (case.path, "refused", case.status)


def test_the_table_is_at_least_thirty_rows() -> None:
    assert len(CASES) >= 30
