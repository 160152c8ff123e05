"""A Lightroom partner web app that signs users in with Adobe IMS (authorization code + PKCE)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, Response, abort, redirect, render_template_string, request, session
from flask.typing import ResponseReturnValue
from werkzeug.serving import WSGIRequestHandler

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx logs every request URL at INFO
log = logging.getLogger("flask_careful")
SCOPES = "openid,AdobeID,lr_partner_apis,offline_access"
STATE_TTL = 600  # seconds a login (state + PKCE verifier) stays usable


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if not value:
        raise SystemExit(f"missing environment variable {name}")
    return value


@dataclass(frozen=True)
class Settings:
    ims: str  # e.g. https://ims-na1.adobelogin.com
    client_id: str
    client_secret: str
    redirect_uri: str  # as registered in the Developer Console; its path is served as the callback
    lightroom: str  # e.g. https://lr.adobe.io
    data_dir: Path
    port: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            ims=_env("IMS_BASE_URL").rstrip("/"),
            client_id=_env("IMS_CLIENT_ID"),
            client_secret=_env("IMS_CLIENT_SECRET"),
            redirect_uri=_env("REDIRECT_URI"),
            lightroom=_env("LIGHTROOM_BASE_URL", "https://lr.adobe.io").rstrip("/"),
            data_dir=Path(_env("DATA_DIR", "var")),
            port=int(_env("PORT", "8000")),
        )


S = Settings.from_env()
S.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)


def _secret_file(name: str, env: str, make: Callable[[], bytes]) -> bytes:
    """A key from the environment, else one generated once into an owner-only file in DATA_DIR."""
    if os.environ.get(env):
        return os.environ[env].encode()
    path = S.data_dir / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(make())
        log.warning("%s not set: generated a key in %s", env, path)
    return path.read_bytes().strip()


FERNET = Fernet(_secret_file("fernet.key", "TOKEN_ENCRYPTION_KEY", Fernet.generate_key))
http = httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=False)


class SignInAgain(Exception):
    """The stored grant is gone (invalid_grant): the user must sign in again."""


class Upstream(Exception):
    """IMS or Lightroom failed or answered something unusable."""


# --- storage: SQLite, tokens sealed with Fernet, session ids and states stored as hashes ---------


@contextmanager
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(S.data_dir / "tokens.db", timeout=10, isolation_level=None)  # autocommit
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


with db() as conn:  # logins: pending sign-ins (state, PKCE verifier); sessions: signed-in browsers
    conn.executescript("""
        CREATE TABLE IF NOT EXISTS logins (sid TEXT, state TEXT PRIMARY KEY, verifier BLOB, created REAL);
        CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, csrf TEXT, access BLOB, refresh BLOB, created REAL);
    """)
(S.data_dir / "tokens.db").chmod(0o600)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def seal(value: str) -> bytes:
    return FERNET.encrypt(value.encode())


def unseal(blob: bytes) -> str:
    return FERNET.decrypt(blob).decode()


@dataclass
class Tokens:
    access: str
    refresh: str | None


def load_tokens(sid: str) -> Tokens | None:
    with db() as c:
        row = c.execute("SELECT access, refresh FROM sessions WHERE sid = ?", (digest(sid),)).fetchone()
    if row is None:
        return None
    try:
        return Tokens(unseal(row["access"]), unseal(row["refresh"]) if row["refresh"] else None)
    except InvalidToken:  # key changed or row tampered with: treat as signed out
        end_session(sid)
        return None


def save_tokens(sid: str, tokens: Tokens) -> None:
    with db() as c:
        c.execute(
            "UPDATE sessions SET access = ?, refresh = ? WHERE sid = ?",
            (seal(tokens.access), seal(tokens.refresh) if tokens.refresh else None, digest(sid)),
        )


def end_session(sid: str) -> None:
    with db() as c:
        c.execute("DELETE FROM sessions WHERE sid = ?", (digest(sid),))


# --- IMS and Lightroom ----------------------------------------------------------------------------


def ims_post(path: str, data: dict[str, str]) -> httpx.Response:
    """A backend call to IMS, authenticated with HTTP Basic (the secret never leaves the server)."""
    try:
        return http.post(f"{S.ims}{path}", data=data, auth=(S.client_id, S.client_secret))
    except httpx.HTTPError as exc:
        raise Upstream(f"IMS unreachable ({type(exc).__name__})") from None


def token_request(data: dict[str, str]) -> dict[str, Any]:
    answer = ims_post("/ims/token/v3", data)
    body = _json(answer)
    if answer.status_code == 400 and body.get("error") == "invalid_grant":
        raise SignInAgain()
    if answer.status_code != 200 or not isinstance(body.get("access_token"), str):
        raise Upstream(f"IMS token endpoint answered {answer.status_code} {body.get('error', '')}".strip())
    return body


def _json(answer: httpx.Response) -> dict[str, Any]:
    text = answer.text.removeprefix("while (1) {}").lstrip()  # Lightroom's JSON-hijacking guard
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def is_expired(answer: httpx.Response) -> bool:
    """IMS says 401; Lightroom says 401, or 403 with code 4300 (expired: refresh)."""
    return answer.status_code == 401 or (
        answer.status_code == 403 and str(_json(answer).get("code")) == "4300"
    )


REFRESH_LOCK = threading.Lock()


def refresh(sid: str, failed_access: str) -> Tokens:
    """Refresh once per expiry, one at a time: a concurrent request that already refreshed wins."""
    with REFRESH_LOCK:
        current = load_tokens(sid)
        if current is None or current.refresh is None:
            raise SignInAgain()
        if current.access != failed_access:
            return current
        try:
            body = token_request({"grant_type": "refresh_token", "refresh_token": current.refresh})
        except SignInAgain:
            end_session(sid)
            raise
        fresh = Tokens(body["access_token"], body.get("refresh_token") or current.refresh)
        save_tokens(sid, fresh)  # the rotated refresh token replaces the used one in the same write
        log.info("access token refreshed")
        return fresh


def with_token(sid: str, call: Callable[[str], httpx.Response]) -> httpx.Response:
    tokens = load_tokens(sid)
    if tokens is None:
        raise SignInAgain()
    try:
        answer = call(tokens.access)
        if is_expired(answer):
            answer = call(refresh(sid, tokens.access).access)
    except httpx.HTTPError as exc:
        raise Upstream(f"upstream unreachable ({type(exc).__name__})") from None
    return answer


def userinfo(token: str) -> httpx.Response:
    return http.get(f"{S.ims}/ims/userinfo/v2", headers={"Authorization": f"Bearer {token}"})


def lr_account(token: str) -> httpx.Response:
    return http.get(
        f"{S.lightroom}/v2/account", headers={"Authorization": f"Bearer {token}", "X-API-Key": S.client_id}
    )


# --- web ------------------------------------------------------------------------------------------

app = Flask(__name__)
app.secret_key = _secret_file("flask.key", "FLASK_SECRET_KEY", lambda: secrets.token_hex(32).encode())
app.config.update(
    SESSION_COOKIE_HTTPONLY=True,
    SESSION_COOKIE_SAMESITE="Lax",
    SESSION_COOKIE_SECURE=urlsplit(S.redirect_uri).scheme == "https",
)

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1>{% if message %}<p>{{ message }}</p>{% endif %}
{% if user %}<p>Signed in as <strong id="name">{{ user.name }}</strong> (<span id="email">{{ user.email }}</span>)</p>
<p>Lightroom account status: <strong id="lr-status">{{ lr_status }}</strong></p>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{{ csrf }}">
<button id="sign-out" type="submit">Sign out</button></form>
{% else %}<p><a id="sign-in" href="/login">Sign in with Adobe</a></p>{% endif %}
</body></html>"""


def page(
    title: str, status: int = 200, message: str = "", user: dict[str, str] | None = None, **extra: Any
) -> Response:
    return Response(render_template_string(PAGE, title=title, message=message, user=user, **extra), status)


@app.after_request
def harden(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    return response


@app.errorhandler(Upstream)
def upstream_failed(exc: Upstream) -> Response:
    log.warning("upstream failure: %s", exc)
    return page(
        "Adobe is not answering", 503, "Adobe sign-in is unavailable right now. Please try again later."
    )


@app.errorhandler(SignInAgain)
def sign_in_again(_: SignInAgain) -> ResponseReturnValue:
    session.clear()
    return redirect("/?reason=expired")


@app.get("/")
def home() -> ResponseReturnValue:
    message = "Your Adobe session has ended; please sign in again." if request.args.get("reason") else ""
    return page("Lightroom partner", message=message)


@app.get("/login")
def login() -> ResponseReturnValue:
    sid = session.get("sid") or secrets.token_urlsafe(32)
    session["sid"] = sid
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    with db() as c:
        c.execute("DELETE FROM logins WHERE created < ?", (time.time() - STATE_TTL,))
        c.execute(
            "INSERT INTO logins VALUES (?, ?, ?, ?)",
            (digest(sid), digest(state), seal(verifier), time.time()),
        )
    query = {
        "client_id": S.client_id,
        "response_type": "code",
        "redirect_uri": S.redirect_uri,
        "scope": SCOPES,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return redirect(f"{S.ims}/ims/authorize/v2?{urlencode(query)}")


def claim_login(state: str) -> str | None:
    """The PKCE verifier of this browser's pending login with this state, consumed (single use)."""
    sid = session.get("sid")
    if not sid or not state:
        return None
    with db() as c:
        row = c.execute(
            "DELETE FROM logins WHERE sid = ? AND state = ? RETURNING verifier, created",
            (digest(sid), digest(state)),
        ).fetchone()
    if row is None or time.time() - row["created"] > STATE_TTL:
        return None
    return unseal(row["verifier"])


@app.get(urlsplit(S.redirect_uri).path or "/callback")
def callback() -> ResponseReturnValue:
    verifier = claim_login(request.args.get("state", ""))
    if verifier is None:
        return page(
            "Sign-in failed", 400, "This sign-in link is invalid or has expired. Please sign in again."
        )
    if request.args.get("error"):
        denied = request.args["error"] == "access_denied"
        return page(
            "Sign-in cancelled" if denied else "Sign-in failed",
            403 if denied else 400,
            "You declined to share your Adobe account." if denied else "Adobe could not sign you in.",
        )
    code = request.args.get("code")
    if not code:
        return page("Sign-in failed", 400, "Adobe sent no authorization code.")
    try:
        body = token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": S.redirect_uri,
                "code_verifier": verifier,
            }
        )
    except SignInAgain:
        return page("Sign-in failed", 400, "The sign-in could not be completed. Please sign in again.")
    new_sid = secrets.token_urlsafe(32)  # a new session id at sign-in (no fixation)
    with db() as c:
        c.execute("DELETE FROM sessions WHERE sid = ?", (digest(session["sid"]),))
        c.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
            (
                digest(new_sid),
                secrets.token_urlsafe(32),
                seal(body["access_token"]),
                seal(body["refresh_token"]) if body.get("refresh_token") else None,
                time.time(),
            ),
        )
    session.clear()
    session["sid"] = new_sid
    return redirect("/profile")


@app.get("/profile")
def profile() -> ResponseReturnValue:
    sid = session.get("sid")
    with db() as c:
        row = c.execute("SELECT csrf FROM sessions WHERE sid = ?", (digest(sid or ""),)).fetchone()
    if not sid or row is None:
        return redirect("/")
    info = with_token(sid, userinfo)
    if info.status_code != 200:
        raise Upstream(f"userinfo answered {info.status_code}")
    claims = _json(info)
    name = claims.get("name") or " ".join(filter(None, [claims.get("given_name"), claims.get("family_name")]))
    account = with_token(sid, lr_account)
    status = (
        (_json(account).get("entitlement") or {}).get("status", "unknown")
        if account.status_code == 200
        else f"unavailable (Lightroom answered {account.status_code})"
    )
    return page(
        "Your Adobe account",
        user={"name": name or "(no name)", "email": claims.get("email", "")},
        lr_status=status,
        csrf=row["csrf"],
    )


@app.post("/logout")
def logout() -> ResponseReturnValue:
    sid = session.get("sid")
    if sid:
        with db() as c:
            row = c.execute("SELECT csrf FROM sessions WHERE sid = ?", (digest(sid),)).fetchone()
        if row is not None and not hmac.compare_digest(row["csrf"], request.form.get("csrf", "")):
            abort(403)
        tokens = load_tokens(sid)
        if tokens and tokens.refresh:
            try:
                answer = ims_post(
                    "/ims/revoke", {"token": tokens.refresh, "token_type_hint": "refresh_token"}
                )
                if answer.status_code != 200:
                    log.warning("revocation answered %s", answer.status_code)
            except Upstream as exc:
                log.warning("revocation failed: %s", exc)
        end_session(sid)
    session.clear()
    return redirect("/")


class QuietRequestHandler(WSGIRequestHandler):
    """The access log without query strings: the callback's carries the authorization code."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.log("info", '"%s %s" %s', self.command, urlsplit(self.path).path, code)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=S.port, request_handler=QuietRequestHandler)
