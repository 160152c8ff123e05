"""Tokens in the browser: signed session cookies are decoded, web storage is searched."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import zlib
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

import httpx
import itsdangerous
import jwt
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from conformance.browser.cookies import decode_cookie, scan_cookies, scan_web_storage
from conformance.storage.leaks import Finding, Secret, needles_for
from tests.helpers import issued

ACCESS = issued.secret("access_token")
REFRESH = issued.secret("refresh_token")
NEEDLES = needles_for(issued.secrets())
ORIGIN = "http://127.0.0.1:8000"


def cookie(name: str, value: str) -> dict[str, Any]:
    """A cookie as Playwright's `context.cookies()` returns it."""
    return {
        "name": name,
        "value": value,
        "domain": "127.0.0.1",
        "path": "/",
        "expires": -1,
        "httpOnly": True,
        "secure": False,
        "sameSite": "Lax",
    }


def seen(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.secret_label, f.encoding, f.location) for f in findings]


def flask_session_cookie(session: dict[str, Any]) -> str:
    """What Flask's SecureCookieSessionInterface sets (its serializer settings, verbatim)."""
    serializer = itsdangerous.URLSafeTimedSerializer(
        "flask-secret-key",
        salt="cookie-session",
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )
    return serializer.dumps(session)


async def starlette_session_cookie(session: dict[str, Any]) -> str:
    """The `session` cookie Starlette's SessionMiddleware sets for a handler that stores `session`."""

    async def login(request: Request) -> PlainTextResponse:
        request.session.update(session)
        return PlainTextResponse("logged in")

    app = Starlette(
        routes=[Route("/callback", login)], middleware=[Middleware(SessionMiddleware, secret_key="s3cret")]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=ORIGIN) as client:
        response = await client.get("/callback")
    jar: SimpleCookie = SimpleCookie(response.headers["set-cookie"])
    return jar["session"].value


# Flask (itsdangerous) -------------------------------------------------------------------------


def test_a_token_in_a_compressed_flask_session_is_found_decoded() -> None:
    value = flask_session_cookie(
        {"user": "alice", "access_token": ACCESS.value, "refresh_token": REFRESH.value}
    )
    assert value.startswith(".")  # itsdangerous compressed it: the payload is base64url(zlib(JSON))
    findings = scan_cookies([cookie("session", value)], NEEDLES)
    where = "cookie session on 127.0.0.1/ (Flask/itsdangerous signed session, decoded)"
    assert seen(findings) == [("access_token", "raw", where), ("refresh_token", "raw", where)]


def test_a_token_in_an_uncompressed_flask_session_is_found_decoded() -> None:
    token = Secret("opaque access token", "tok-9c1f7e2a")
    value = flask_session_cookie({"t": token.value})
    assert not value.startswith(".")  # too short for zlib to pay off
    (how, data), *_ = decode_cookie("session", value)
    assert (how, data) == (
        "itsdangerous-signed session (Flask or Starlette), decoded",
        b'{"t":"tok-9c1f7e2a"}',
    )
    assert [f.encoding for f in scan_cookies([cookie("session", value)], needles_for([token]))] == ["raw"]


def test_a_flask_session_without_tokens_is_decoded_but_not_reported() -> None:
    value = flask_session_cookie({"user": "alice", "token_id": "1795804479455_abc_ue1", "pad": "x" * 50})
    assert decode_cookie("session", value)[0] == (
        "Flask/itsdangerous signed session, decoded",
        b'{"user":"alice","token_id":"1795804479455_abc_ue1","pad":"' + b"x" * 50 + b'"}',
    )
    assert scan_cookies([cookie("session", value)], NEEDLES) == []


# Starlette ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_token_in_a_starlette_session_is_found_decoded() -> None:
    value = await starlette_session_cookie({"user": "alice", "access_token": ACCESS.value})
    findings = scan_cookies([cookie("session", value)], NEEDLES)
    assert seen(findings) == [
        ("access_token", "raw", "cookie session on 127.0.0.1/ (Starlette SessionMiddleware session, decoded)")
    ]
    assert "alice" in findings[0].excerpt and ACCESS.value[:30] not in findings[0].excerpt


@pytest.mark.anyio
async def test_a_starlette_session_holding_only_a_session_id_is_clean() -> None:
    value = await starlette_session_cookie({"sid": "b2f7c1d0e4a94b36a1f3", "user": "alice"})
    assert scan_cookies([cookie("session", value)], NEEDLES) == []


# Other frameworks -----------------------------------------------------------------------------


def test_a_token_in_an_express_cookie_session_is_found_decoded() -> None:
    # cookie-session: Buffer.from(JSON.stringify(session)).toString('base64'), signed in `<name>.sig`
    value = base64.b64encode(
        json.dumps({"tokens": {"refresh": REFRESH.value}}, separators=(",", ":")).encode()
    )
    signature = base64.urlsafe_b64encode(hmac.digest(b"keygrip", b"session=" + value, "sha1")).rstrip(b"=")
    cookies = [cookie("session", value.decode()), cookie("session.sig", signature.decode())]
    assert seen(scan_cookies(cookies, NEEDLES)) == [
        (
            "refresh_token",
            "raw",
            "cookie session on 127.0.0.1/ (Express cookie-session (base64 JSON), decoded)",
        )
    ]
    assert decode_cookie("session.sig", signature.decode()) == []


def test_a_token_in_a_django_signed_cookie_session_is_found_decoded() -> None:
    # django.core.signing.dumps(..., compress=True): "." + base64url(zlib(JSON)) ":" b62 time ":" sig
    payload = b"." + base64.urlsafe_b64encode(
        zlib.compress(json.dumps({"at": ACCESS.value}).encode())
    ).rstrip(b"=")
    value = f"{payload.decode()}:1rXk2B:{base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"
    assert seen(scan_cookies([cookie("sessionid", value)], NEEDLES)) == [
        (
            "access_token",
            "raw",
            "cookie sessionid on 127.0.0.1/ (Django signed cookie (signing.dumps), decoded)",
        )
    ]


def test_a_token_in_a_rails_signed_cookie_is_found_decoded() -> None:
    data = base64.b64encode(json.dumps({"_rails": {"message": ACCESS.value, "exp": None}}).encode())
    value = quote(f"{data.decode()}--{hmac.digest(b'k', data, 'sha1').hex()}")
    assert seen(scan_cookies([cookie("_app_session", value)], NEEDLES)) == [
        (
            "access_token",
            "raw",
            "cookie _app_session on 127.0.0.1/ (Rails signed cookie (data--digest), decoded)",
        )
    ]


def test_a_token_inside_the_partners_own_jwt_cookie_is_found_decoded() -> None:
    value = jwt.encode(
        {"sub": "alice", "ims": {"access_token": ACCESS.value}},
        "partner-signing-key-of-32-bytes!",
        algorithm="HS256",
    )
    assert seen(scan_cookies([cookie("auth", value)], NEEDLES)) == [
        ("access_token", "raw", "cookie auth on 127.0.0.1/ (JWT payload, decoded)")
    ]


def test_a_token_stored_as_a_cookie_is_found_as_stored() -> None:
    assert seen(scan_cookies([cookie("ims_access_token", ACCESS.value)], NEEDLES)) == [
        ("access_token", "raw", "cookie ims_access_token on 127.0.0.1/ (as stored)")
    ]


def test_a_url_encoded_base64_token_cookie_is_found() -> None:
    value = quote(base64.b64encode(REFRESH.value.encode()).decode(), safe="")
    assert seen(scan_cookies([cookie("rt", value)], NEEDLES)) == [
        ("refresh_token", "base64", "cookie rt on 127.0.0.1/ (URL-decoded)")
    ]


def test_a_generic_signed_value_is_searched_part_by_part() -> None:
    value = f"v1.{base64.urlsafe_b64encode(f'rt={REFRESH.value}'.encode()).decode()}.c2lnbmF0dXJl"
    findings = scan_cookies([cookie("remember", value)], NEEDLES)
    assert [f.secret_label for f in findings] == ["refresh_token"]


def test_an_encrypted_session_cookie_is_clean() -> None:
    key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps({"access_token": ACCESS.value}).encode(), None)
    value = base64.urlsafe_b64encode(nonce + sealed).decode()
    assert scan_cookies([cookie("session", value)], NEEDLES) == []


def test_a_cookie_carrying_only_a_jwt_header_is_clean() -> None:
    header = ACCESS.value.split(".")[0]
    assert scan_cookies([cookie("h", header), cookie("h2", f"{header}.e30.")], NEEDLES) == []


def test_each_secret_is_reported_once_per_cookie_under_its_most_telling_form() -> None:
    value = flask_session_cookie({"a": ACCESS.value, "again": ACCESS.value, "pad": "y" * 80})
    findings = scan_cookies([cookie("session", value), cookie("backup", value)], NEEDLES)
    assert [f.location for f in findings] == [
        "cookie session on 127.0.0.1/ (Flask/itsdangerous signed session, decoded)",
        "cookie backup on 127.0.0.1/ (Flask/itsdangerous signed session, decoded)",
    ]


def test_a_quoted_cookie_value_is_unquoted_first() -> None:
    value = base64.b64encode(json.dumps({"t": ACCESS.value}).encode()).decode()
    assert decode_cookie("s", f'"{value}"')[0][0] == "Express cookie-session (base64 JSON), decoded"


def test_a_zlib_bomb_is_not_inflated_beyond_a_limit() -> None:
    bomb = b"." + base64.urlsafe_b64encode(zlib.compress(b"[" + b"0," * 20_000_000 + b"0]")).rstrip(b"=")
    value = f"{bomb.decode()}.{base64.urlsafe_b64encode(int(time.time()).to_bytes(4, 'big')).decode().rstrip('=')}.sig"
    assert all(len(data) <= 4 * 1024 * 1024 for _, data in decode_cookie("session", value))


# Web storage ----------------------------------------------------------------------------------


def test_tokens_in_local_storage_json_are_found_by_key() -> None:
    items = {
        "theme": "dark",
        "oidc.user": json.dumps({"access_token": ACCESS.value, "profile": {"name": "A"}}),
    }
    assert seen(scan_web_storage("localStorage", items, ORIGIN, NEEDLES)) == [
        ("access_token", "raw", f"localStorage key 'oidc.user' on {ORIGIN} (as stored)")
    ]


def test_a_base64_encoded_session_storage_value_is_found_decoded() -> None:
    items = {"auth": base64.b64encode(json.dumps({"rt": REFRESH.value}).encode()).decode()}
    assert seen(scan_web_storage("sessionStorage", items, ORIGIN, NEEDLES)) == [
        (
            "refresh_token",
            "raw",
            f"sessionStorage key 'auth' on {ORIGIN} (Express cookie-session (base64 JSON), decoded)",
        )
    ]


def test_a_token_used_as_a_storage_key_is_found() -> None:
    items = {f"token:{ACCESS.value}": "1"}
    assert seen(scan_web_storage("localStorage", items, ORIGIN, NEEDLES)) == [
        ("access_token", "raw", f"localStorage key name on {ORIGIN}")
    ]


def test_storage_without_tokens_is_clean() -> None:
    items = {"theme": "dark", "user": json.dumps({"name": "Alice", "email": "alice@example.com"})}
    assert scan_web_storage("localStorage", items, ORIGIN, NEEDLES) == []
