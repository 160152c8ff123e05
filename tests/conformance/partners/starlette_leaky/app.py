"""A Lightroom partner app in plain Starlette that signs users in with Adobe IMS.

It has three security flaws on purpose (see README.md); everything else aims to be done right.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import html
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

log = logging.getLogger("starlette_leaky")
COOKIE = "sid"
STATE_TTL = 600  # seconds a sign-in attempt stays valid
SCOPES = "openid,AdobeID,lr_partner_apis,offline_access"
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@dataclass(frozen=True)
class Settings:
    ims_url: str
    client_id: str
    client_secret: str
    redirect_uri: str
    lightroom_url: str
    port: int
    data_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        missing = [k for k in ("IMS_BASE_URL", "IMS_CLIENT_ID", "IMS_CLIENT_SECRET") if not os.environ.get(k)]
        if missing:
            raise SystemExit(f"missing environment variables: {', '.join(missing)}")
        port = int(os.environ.get("PORT", "8000"))
        return cls(
            ims_url=os.environ["IMS_BASE_URL"].rstrip("/"),
            client_id=os.environ["IMS_CLIENT_ID"],
            client_secret=os.environ["IMS_CLIENT_SECRET"],
            redirect_uri=os.environ.get("REDIRECT_URI", f"http://127.0.0.1:{port}/callback"),
            lightroom_url=os.environ.get("LIGHTROOM_BASE_URL", "https://lr.adobe.io").rstrip("/"),
            port=port,
            data_dir=Path(os.environ.get("DATA_DIR", "var")),
        )


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# FLAW 3: "obfuscation" -- the JWT split at its dots and the signature hex-encoded.
def obfuscate(token: str) -> dict[str, str]:
    header, payload, sig = token.split(".")
    return {"header": header, "payload": payload, "sig_hex": _b64url_decode(sig).hex()}


def deobfuscate(blob: dict[str, str]) -> str:
    return f"{blob['header']}.{blob['payload']}.{_b64url(bytes.fromhex(blob['sig_hex']))}"


TOKEN_KEYS = ("access_token", "refresh_token")


class SessionStore:
    """Server-side sessions in memory, persisted to DATA_DIR/sessions.json."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "sessions.json"
        self.sessions: dict[str, dict[str, Any]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        if self.path.exists():
            for sid, data in json.loads(self.path.read_text()).items():
                for key in TOKEN_KEYS:
                    if isinstance(data.get(key), dict):
                        data[key] = deobfuscate(data[key])
                self.sessions[sid] = data

    def create(self, data: dict[str, Any]) -> str:
        sid = secrets.token_urlsafe(32)
        self.sessions[sid] = data
        self.save()
        return sid

    def get(self, request: Request) -> tuple[str, dict[str, Any]] | None:
        sid = request.cookies.get(COOKIE, "")
        data = self.sessions.get(sid)
        return (sid, data) if data is not None else None

    def drop(self, sid: str) -> None:
        self.sessions.pop(sid, None)
        self.locks.pop(sid, None)
        self.save()

    def lock(self, sid: str) -> asyncio.Lock:
        return self.locks.setdefault(sid, asyncio.Lock())

    def save(self) -> None:
        out: dict[str, dict[str, Any]] = {}
        for sid, data in self.sessions.items():
            out[sid] = {k: (obfuscate(v) if k in TOKEN_KEYS and v else v) for k, v in data.items()}
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(out, f)
        os.replace(tmp, self.path)


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    doc = f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>{body}</body></html>"
    base = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(doc, status_code=status, headers={**base, **(headers or {})})


def error_page(message: str, status: int) -> HTMLResponse:
    return page(
        "Sign-in problem",
        f"<h1>Something went wrong</h1><p>{html.escape(message)}</p><p><a href='/'>Back to the start</a></p>",
        status,
    )


class TokenError(Exception):
    def __init__(self, invalid_grant: bool) -> None:
        self.invalid_grant = invalid_grant


def build_app(settings: Settings) -> Starlette:
    store = SessionStore(settings.data_dir)
    http = httpx.AsyncClient(timeout=httpx.Timeout(10.0), follow_redirects=False)
    auth = httpx.BasicAuth(settings.client_id, settings.client_secret)
    secure = settings.redirect_uri.startswith("https://")

    def set_cookie(response: Response, sid: str) -> Response:
        response.set_cookie(COOKIE, sid, httponly=True, samesite="lax", secure=secure, path="/")
        return response

    async def token_request(form: dict[str, str]) -> dict[str, Any]:
        answer = await http.post(f"{settings.ims_url}/ims/token/v3", data=form, auth=auth)
        body: dict[str, Any] = answer.json() if "json" in answer.headers.get("content-type", "") else {}
        if answer.status_code != 200 or "access_token" not in body:
            raise TokenError(body.get("error") == "invalid_grant")
        return body

    async def refresh(sid: str, session: dict[str, Any], used: str) -> None:
        async with store.lock(sid):
            if session.get("access_token") != used:  # another request already refreshed
                return
            if not session.get("refresh_token"):
                raise TokenError(invalid_grant=True)
            body = await token_request(
                {"grant_type": "refresh_token", "refresh_token": session["refresh_token"]}
            )
            session["access_token"] = body["access_token"]
            session["refresh_token"] = body.get("refresh_token", session["refresh_token"])
            store.save()

    async def home(request: Request) -> Response:
        found = store.get(request)
        if found and found[1].get("access_token"):
            return page("Lightroom partner", "<p><a href='/profile'>Your profile</a></p>")
        return page(
            "Lightroom partner",
            "<h1>Lightroom partner</h1><p><a id='sign-in' href='/login'>Sign in with Adobe</a></p>",
        )

    async def login(request: Request) -> Response:
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(48)
        challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
        existing = store.get(request)
        if existing:
            store.drop(existing[0])
        sid = store.create({"state": state, "verifier": verifier, "state_at": time.time()})
        query = urlencode(
            {
                "client_id": settings.client_id,
                "redirect_uri": settings.redirect_uri,
                "response_type": "code",
                "scope": SCOPES,
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return set_cookie(RedirectResponse(f"{settings.ims_url}/ims/authorize/v2?{query}", 302), sid)

    async def callback(request: Request) -> Response:
        found = store.get(request)
        expected = found[1].pop("state", None) if found else None  # claimed once, before anything else
        verifier = found[1].pop("verifier", None) if found else None
        if found and time.time() - float(found[1].pop("state_at", 0)) > STATE_TTL:
            expected = None
        if found:
            store.save()
        given = request.query_params.get("state")
        if not expected or not given or not hmac.compare_digest(expected, given):
            return error_page(
                "This sign-in link is invalid or has already been used. Please sign in again.", 400
            )
        if request.query_params.get("error") == "access_denied":
            return error_page("You declined to share your Adobe account, so you are not signed in.", 403)
        code = request.query_params.get("code")
        if request.query_params.get("error") or not code:
            return error_page("Adobe sign-in did not complete. Please try again.", 400)
        try:
            body = await token_request(
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": settings.redirect_uri,
                    "code_verifier": verifier or "",
                }
            )
        except (TokenError, httpx.HTTPError, ValueError):
            log.warning("code exchange failed")
            return error_page("Adobe sign-in is unavailable right now. Please try again later.", 503)
        assert found is not None
        store.drop(found[0])  # new session id at sign-in
        sid = store.create(
            {
                "access_token": body["access_token"],
                "refresh_token": body.get("refresh_token", ""),
                "csrf": secrets.token_urlsafe(32),
            }
        )
        # FLAW 2: a "deep link" carrying the access token in the URL.
        return set_cookie(RedirectResponse(f"/profile?at={body['access_token']}", 303), sid)

    async def userinfo(token: str) -> httpx.Response:
        return await http.get(
            f"{settings.ims_url}/ims/userinfo/v2", headers={"Authorization": f"Bearer {token}"}
        )

    async def lr_account(token: str) -> httpx.Response:
        return await http.get(
            f"{settings.lightroom_url}/v2/account",
            headers={"Authorization": f"Bearer {token}", "X-API-Key": settings.client_id},
        )

    def lr_json(answer: httpx.Response) -> dict[str, Any]:
        text = answer.text
        if text.startswith("while (1) {}"):
            text = text.split("\n", 1)[1] if "\n" in text else ""
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def expired(answer: httpx.Response, lightroom: bool) -> bool:
        if lightroom:
            return answer.status_code == 403 and str(lr_json(answer).get("code")) == "4300"
        return answer.status_code == 401

    async def call(
        sid: str, session: dict[str, Any], fn: Callable[[str], Awaitable[httpx.Response]], lightroom: bool
    ) -> httpx.Response:
        token = session["access_token"]
        answer = await fn(token)
        if expired(answer, lightroom):
            await refresh(sid, session, token)
            answer = await fn(session["access_token"])
        return answer

    async def profile(request: Request) -> Response:
        found = store.get(request)
        if not found or not found[1].get("access_token"):
            return RedirectResponse("/login", 303)
        sid, session = found
        try:
            info = await call(sid, session, userinfo, lightroom=False)
            account = await call(sid, session, lr_account, lightroom=True)
        except TokenError as exc:
            if exc.invalid_grant:
                store.drop(sid)
                response = RedirectResponse("/login", 303)
                response.delete_cookie(COOKIE, path="/")
                return response
            return error_page("Adobe is unavailable right now. Please try again later.", 503)
        except (httpx.HTTPError, ValueError):
            return error_page("Adobe is unavailable right now. Please try again later.", 503)
        if info.status_code != 200:
            return error_page("Could not load your Adobe profile. Please sign in again.", 502)
        user: dict[str, Any] = info.json()
        name = user.get("name") or " ".join(filter(None, [user.get("given_name"), user.get("family_name")]))
        acct = lr_json(account) if account.status_code == 200 else {}
        entitlement = acct.get("entitlement")
        status = entitlement.get("status", "unknown") if isinstance(entitlement, dict) else "unavailable"
        # FLAW 1: the access token embedded in the page for "the front-end's Lightroom calls".
        config = json.dumps({"accessToken": session["access_token"], "apiKey": settings.client_id}).replace(
            "</", "<\\/"
        )
        # FLAW 2: an analytics pixel on another origin, fetched with the full URL as Referer.
        host = request.url.hostname or "127.0.0.1"
        other = "localhost" if host == "127.0.0.1" else "127.0.0.1"
        body = (
            f"<h1>Hello, {html.escape(str(name))}</h1><p>Email: <span id='email'>{html.escape(str(user.get('email', '')))}</span></p>"
            f"<p>Lightroom entitlement: {html.escape(str(status))}</p>"
            f"<script>window.LR_CONFIG = {config};</script>"
            f"<img src='http://{other}:{settings.port}/pixel.gif' width='1' height='1' alt=''>"
            f"<form method='post' action='/logout'><input type='hidden' name='csrf' value='{html.escape(session['csrf'])}'>"
            f"<button id='sign-out' type='submit'>Sign out</button></form>"
        )
        return page("Your profile", body, headers={"Referrer-Policy": "unsafe-url"})

    async def logout(request: Request) -> Response:
        found = store.get(request)
        form = await request.form()
        if found and hmac.compare_digest(str(form.get("csrf", "")), found[1].get("csrf", "")):
            sid, session = found
            if session.get("refresh_token"):
                try:
                    await http.post(
                        f"{settings.ims_url}/ims/revoke",
                        auth=auth,
                        data={"token": session["refresh_token"], "token_type_hint": "refresh_token"},
                    )
                except httpx.HTTPError:
                    log.warning("revocation failed")
            store.drop(sid)
        elif found:
            return error_page("Your sign-out request could not be verified.", 403)
        response = RedirectResponse("/", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    async def pixel(request: Request) -> Response:
        return Response(PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await http.aclose()

    routes = [
        Route("/", home),
        Route("/login", login),
        Route(urlsplit(settings.redirect_uri).path or "/callback", callback),
        Route("/profile", profile),
        Route("/logout", logout, methods=["POST"]),
        Route("/pixel.gif", pixel),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    config = Settings.from_env()
    # No access log: the callback's query string carries the code.
    uvicorn.run(build_app(config), host="127.0.0.1", port=config.port, access_log=False)
