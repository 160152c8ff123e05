"""The mock's own sign-in session (IMS's SSO cookie) and its login requests.

A login request is an authorize request waiting for the user on the login page. It is bound
to the browser by a CSRF cookie and can be answered once.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_ims.config import UserConfig
from mock_ims.context import Context, new_secret

SSO_COOKIE = "mock_ims_sso"
CSRF_COOKIE = "mock_ims_csrf"
COOKIE_PATH = "/ims"


async def current_user(ctx: Context, request: Request, now_ms: int) -> tuple[str, UserConfig] | None:
    """The session id and user the browser is signed in as, if the session is still valid."""
    sid = request.cookies.get(SSO_COOKIE)
    if not sid or len(sid) > 128:
        return None
    doc = await ctx.store.get("sessions", sid)
    if doc is None or now_ms >= int(doc["expires_ms"]):
        return None
    user = await ctx.registry.user(doc["user_id"])
    return (sid, user) if user else None


async def start_session(ctx: Context, user: UserConfig, now_ms: int) -> str:
    sid = new_secret()
    expires_ms = now_ms + ctx.config.session_lifetime * 1000
    doc = {"sid": sid, "user_id": user.user_id, "created_ms": now_ms, "expires_ms": expires_ms}
    await ctx.store.put("sessions", sid, doc, expires_ms=expires_ms)
    return sid


async def end_session(ctx: Context, sid: str) -> bool:
    return await ctx.store.delete("sessions", sid)


def set_session_cookie(response: Response, sid: str, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SSO_COOKIE, sid, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="lax", secure=secure
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
