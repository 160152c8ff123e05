"""A small Lightroom partner app that talks to Adobe's real hostnames, for "run your app unchanged".

It knows nothing of mock-ims: IMS is `https://ims-na1.adobelogin.com` and Lightroom
`https://lr.adobe.io`, as in Adobe's samples. Started with the environment `mock-ims serve
--proxy-port 0` prints (HTTPS_PROXY, SSL_CERT_FILE, REQUESTS_CA_BUNDLE...), it signs in against
the mock without a line changed. `IMS_BASE_URL` / `LIGHTROOM_BASE_URL` override the hosts, as
many apps allow; leave them unset to use the real ones.

    IMS_CLIENT_ID=... IMS_CLIENT_SECRET=... python python_app.py --port 8000

Sign-in: authorization code with state (bound to a session cookie, single use) and PKCE S256;
tokens kept in memory only; the access token refreshed when IMS or Lightroom refuses it.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import html
import json
import os
import secrets
import threading
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

IMS = os.environ.get("IMS_BASE_URL", "https://ims-na1.adobelogin.com").rstrip("/")
LIGHTROOM = os.environ.get("LIGHTROOM_BASE_URL", "https://lr.adobe.io").rstrip("/")
SCOPE = "openid,AdobeID,lr_partner_apis,offline_access,email,profile"
TIMEOUT = 10
SESSIONS: dict[str, dict[str, Any]] = {}
LOCK = threading.Lock()


class ImsFailed(Exception):
    """IMS or Lightroom answered with an error the user cannot fix by signing in again."""


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def strip_lightroom_prefix(text: str) -> Any:
    return json.loads(text.split("\n", 1)[1] if text.startswith("while") else text)


class App(BaseHTTPRequestHandler):
    client_id = os.environ.get("IMS_CLIENT_ID", "")
    client_secret = os.environ.get("IMS_CLIENT_SECRET", "")
    redirect_uri = ""

    def log_message(self, format: str, *args: Any) -> None:  # quiet: a log would hold codes
        pass

    # ---- plumbing ---------------------------------------------------------------------

    def session(self) -> tuple[str, dict[str, Any]]:
        jar = cookies.SimpleCookie(self.headers.get("Cookie", ""))
        sid = jar["sid"].value if "sid" in jar else ""
        with LOCK:
            if sid not in SESSIONS:
                sid = secrets.token_urlsafe(32)
                SESSIONS[sid] = {}
            return sid, SESSIONS[sid]

    def send(self, status: int, body: str, sid: str | None = None, location: str | None = None) -> None:
        page = f"<!doctype html><title>Partner app</title><body>{body}</body>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.send_header("Cache-Control", "no-store")
        if sid:
            self.send_header("Set-Cookie", f"sid={sid}; HttpOnly; SameSite=Lax; Path=/")
        if location:
            self.send_header("Location", location)
        self.end_headers()
        self.wfile.write(page)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        routes = {"/": self.home, "/login": self.login, "/callback": self.callback, "/profile": self.profile}
        handler = routes.get(url.path)
        if handler is None:
            self.send(404, "<h1>Not found</h1>")
            return
        try:
            handler(query)
        except (ImsFailed, requests.RequestException) as exc:
            self.send(502, f"<h1>Adobe sign-in is not available</h1><p id=error>{html.escape(str(exc))}</p>")

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/logout":
            self.send(404, "<h1>Not found</h1>")
            return
        sid, session = self.session()
        tokens = session.pop("tokens", None)
        if tokens:
            requests.post(
                f"{IMS}/ims/revoke",
                data={"token": tokens["refresh_token"] or tokens["access_token"]},
                auth=(self.client_id, self.client_secret),
                timeout=TIMEOUT,
            )
        self.send(303, "<p>Signed out</p>", sid, location="/")

    # ---- pages ------------------------------------------------------------------------

    def home(self, query: dict[str, str]) -> None:
        self.send(200, '<h1>Partner app</h1><a id=sign-in href="/login">Sign in with Adobe</a>')

    def login(self, query: dict[str, str]) -> None:
        sid, session = self.session()
        state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        session["pending"] = {"state": state, "verifier": verifier}
        params = {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": SCOPE,
            "response_type": "code",
            "state": state,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
        self.send(302, "", sid, location=f"{IMS}/ims/authorize/v2?{urlencode(params)}")

    def callback(self, query: dict[str, str]) -> None:
        sid, session = self.session()
        pending = session.pop("pending", None)  # single use, whatever happens next
        if pending is None or not secrets.compare_digest(query.get("state", ""), pending["state"]):
            self.send(400, "<h1>Sign-in failed</h1><p id=error>This sign-in was not started here.</p>", sid)
            return
        if "error" in query or "code" not in query:
            reason = html.escape(query.get("error", "no code"))
            self.send(400, f"<h1>Sign-in failed</h1><p id=error>Adobe said: {reason}</p>", sid)
            return
        answer = requests.post(
            f"{IMS}/ims/token/v3",
            data={
                "grant_type": "authorization_code",
                "code": query["code"],
                "redirect_uri": self.redirect_uri,
                "code_verifier": pending["verifier"],
            },
            auth=(self.client_id, self.client_secret),
            timeout=TIMEOUT,
        )
        if answer.status_code != 200:
            raise ImsFailed(f"the token endpoint answered {answer.status_code}")
        tokens = answer.json()
        # A new session for the signed-in user: the id from before sign-in may be someone else's
        # (session fixation), so it ends here.
        with LOCK:
            SESSIONS.pop(sid, None)
            sid = secrets.token_urlsafe(32)
            SESSIONS[sid] = session
        session["tokens"] = {
            "access_token": tokens["access_token"],
            "refresh_token": tokens.get("refresh_token"),
        }
        self.send(303, "<p>Signed in</p>", sid, location="/profile")

    def profile(self, query: dict[str, str]) -> None:
        sid, session = self.session()
        if "tokens" not in session:
            self.send(401, '<h1>Not signed in</h1><a id=sign-in href="/login">Sign in with Adobe</a>', sid)
            return
        profile = self.call_with_refresh(session, self.fetch_profile)
        if profile is None:
            self.send(303, "<p>Please sign in again</p>", sid, location="/login")
            return
        account = self.call_with_refresh(session, self.fetch_account)
        name = html.escape(str(profile.get("name") or profile.get("displayName") or ""))
        email = html.escape(str(profile.get("email", "")))
        lightroom = html.escape(str((account or {}).get("email", "unavailable")))
        self.send(
            200,
            f"<h1>Signed in</h1><p id=name>{name}</p><p id=email>{email}</p>"
            f"<p>Lightroom account: <span id=lightroom>{lightroom}</span></p>"
            '<form method=post action="/logout"><button id=sign-out>Sign out</button></form>',
            sid,
        )

    # ---- IMS and Lightroom --------------------------------------------------------------

    def fetch_profile(self, access_token: str) -> tuple[int, Any]:
        answer = requests.get(
            f"{IMS}/ims/profile/v1", headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
        )
        return answer.status_code, answer.json() if answer.status_code == 200 else None

    def fetch_account(self, access_token: str) -> tuple[int, Any]:
        answer = requests.get(
            f"{LIGHTROOM}/v2/account",
            headers={"Authorization": f"Bearer {access_token}", "X-API-Key": self.client_id},
            timeout=TIMEOUT,
        )
        body = strip_lightroom_prefix(answer.text) if answer.text else None
        return answer.status_code, body

    def call_with_refresh(self, session: dict[str, Any], call: Any) -> Any:
        """The call's answer; on 401/403 refresh once (rotating the refresh token) and retry.
        None when the user must sign in again."""
        used = session["tokens"]["access_token"]
        status, body = call(used)
        if status == 200:
            return body
        if status not in (401, 403):
            raise ImsFailed(f"the call answered {status}")
        if not self.refresh(session, used):
            return None
        status, body = call(session["tokens"]["access_token"])
        return body if status == 200 else None

    def refresh(self, session: dict[str, Any], used: str) -> bool:
        """One refresh at a time per session: a request that waited finds the tokens the first
        one got (IMS rotates the refresh token; presenting it twice revokes the grant)."""
        with LOCK:
            lock = session.setdefault("refresh_lock", threading.Lock())
        with lock:
            tokens = session.get("tokens")
            if tokens is None:
                return False
            if tokens["access_token"] != used:
                return True  # refreshed by another request while this one waited
            return self._refresh(session, tokens)

    def _refresh(self, session: dict[str, Any], current: dict[str, Any]) -> bool:
        refresh_token = current.get("refresh_token")
        if not refresh_token:
            session.pop("tokens", None)
            return False
        answer = requests.post(
            f"{IMS}/ims/token/v3",
            data={"grant_type": "refresh_token", "refresh_token": refresh_token},
            auth=(self.client_id, self.client_secret),
            timeout=TIMEOUT,
        )
        if answer.status_code != 200:
            session.pop("tokens", None)
            return False
        tokens = answer.json()
        session["tokens"] = {
            "access_token": tokens["access_token"],
            "refresh_token": tokens.get("refresh_token", refresh_token),
        }
        return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), App)
    App.redirect_uri = os.environ.get("REDIRECT_URI", f"http://127.0.0.1:{server.server_port}/callback")
    print(
        f"partner app on http://127.0.0.1:{server.server_port} (IMS {IMS}, Lightroom {LIGHTROOM})", flush=True
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
