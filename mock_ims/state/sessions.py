"""The mock's own sign-in session (IMS's SSO cookie) and its login requests.

A login request is an authorize request waiting for the user on the login page. It is bound
to the browser by a CSRF cookie and can be answered once.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_ims.config import UserConfig
from mock_ims.state.context import Context, new_secret

SSO_COOKIE = "mock_ims_sso"
CSRF_COOKIE = "mock_ims_csrf"
COOKIE_PATH = "/ims"


@dataclass(frozen=True)
class SignIn:
    """A browser's sign-in at the mock. `sid` is public (tokens carry it as their `sid` claim);
    the cookie also holds a secret only its hash is stored for, so a token cannot forge it."""

    sid: str
    user: UserConfig


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def current_user(ctx: Context, request: Request, now_ms: int) -> SignIn | None:
    """Who the browser is signed in as, if its session is still valid."""
    cookie = request.cookies.get(SSO_COOKIE) or ""
    sid, _, secret = cookie.partition(".")
    if not sid or not secret or len(cookie) > 128:
        return None
    doc = await ctx.store.get("sessions", sid)
    if doc is None or now_ms >= int(doc["expires_ms"]):
        return None
    if not hmac.compare_digest(_digest(secret), str(doc.get("secret_sha256", ""))):
        return None
    user = await ctx.registry.user(doc["user_id"])
    return SignIn(sid, user) if user else None


async def start_session(ctx: Context, user: UserConfig, now_ms: int) -> tuple[SignIn, str]:
    """A new sign-in session; returns it and the cookie value that proves it."""
    sid, secret = new_secret(), new_secret()
    expires_ms = now_ms + ctx.config.session_lifetime * 1000
    doc = {
        "sid": sid,
        "secret_sha256": _digest(secret),
        "user_id": user.user_id,
        "created_ms": now_ms,
        "expires_ms": expires_ms,
    }
    await ctx.store.put("sessions", sid, doc, expires_ms=expires_ms)
    return SignIn(sid, user), f"{sid}.{secret}"


async def end_session(ctx: Context, sid: str) -> bool:
    return await ctx.store.delete("sessions", sid)


def set_session_cookie(response: Response, value: str, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SSO_COOKIE, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SSO_COOKIE, path=COOKIE_PATH)


def csrf_token(request: Request) -> tuple[str, bool]:
    """The browser's CSRF token, and whether it is new (then the cookie must be set)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum():
        return existing, False
    return new_secret(), True


def set_csrf_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(CSRF_COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="strict", secure=secure)


def csrf_matches(request: Request, form_token: str | None, expected: str) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    form_token = form_token or ""
    return (
        bool(cookie) and hmac.compare_digest(cookie, expected) and hmac.compare_digest(form_token, expected)
    )


async def save_login_request(ctx: Context, doc: dict[str, Any], now_ms: int) -> str:
    rid = new_secret()
    expires_ms = now_ms + ctx.config.login_request_lifetime * 1000
    await ctx.store.put(
        "requests",
        rid,
        {**doc, "rid": rid, "expires_ms": expires_ms, "answered_ms": None},
        expires_ms=expires_ms,
    )
    return rid
