"""A small Flask partner app that signs in with Adobe IMS, and can misbehave on purpose.

Unset, MISBEHAVE gives an app that does the authorization code flow properly. Set, it picks one
way for the app to break as a process or a web server (see README.md): hang-protected, cut-body,
huge-page, exit-after-signin, ignore-sigterm.

Run: IMS_BASE_URL=... IMS_CLIENT_ID=... IMS_CLIENT_SECRET=... REDIRECT_URI=... PORT=... python app.py
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
from flask import Flask, Response, redirect, request

IMS_BASE_URL = os.environ["IMS_BASE_URL"].rstrip("/")
CLIENT_ID = os.environ["IMS_CLIENT_ID"]
CLIENT_SECRET = os.environ["IMS_CLIENT_SECRET"]
PORT = int(os.environ.get("PORT", "8000"))
REDIRECT_URI = os.environ.get("REDIRECT_URI") or f"http://127.0.0.1:{PORT}/callback"
CALLBACK_PATH = urlsplit(REDIRECT_URI).path or "/callback"
DATA_DIR = Path(os.environ.get("DATA_DIR", "var"))
MISBEHAVE = os.environ.get("MISBEHAVE", "")

MODES = ["hang-protected", "cut-body", "huge-page", "exit-after-signin", "ignore-sigterm"]
if MISBEHAVE and MISBEHAVE not in MODES:
    sys.exit(f"MISBEHAVE={MISBEHAVE!r} is not one of: {', '.join(MODES)}")

SCOPES = "openid,AdobeID,lr_partner_apis,offline_access"
PROFILE_URL = f"{IMS_BASE_URL}/ims/profile/v1"
COOKIE_NAME = "session_id"
LOGIN_LIFETIME = 600  # seconds a started sign-in may take
HUGE_PAGE_BYTES = 50 * 1024 * 1024

app = Flask(__name__)
ims = httpx.Client(timeout=10)


# --- Sessions: kept in memory, keyed by a random cookie. Tokens never leave the server. ---


@dataclass
class Session:
    # While signing in:
    state: str | None = None
    code_verifier: str | None = None
    started: float = 0.0
    # Once signed in:
    access_token: str | None = None
    refresh_token: str | None = None
    csrf_token: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


sessions: dict[str, Session] = {}
sessions_lock = threading.Lock()


def current_session() -> tuple[str, Session | None]:
    session_id = request.cookies.get(COOKIE_NAME, "")
    with sessions_lock:
        return session_id, sessions.get(session_id)


def new_session(session: Session) -> str:
    session_id = secrets.token_urlsafe(32)
    with sessions_lock:
        sessions[session_id] = session
    return session_id


def forget_session(session_id: str) -> None:
    with sessions_lock:
        sessions.pop(session_id, None)


def set_session_cookie(response: Response, session_id: str) -> Response:
    response.set_cookie(COOKIE_NAME, session_id, httponly=True, samesite="Lax")
    return response


# --- Talking to IMS ---


@functools.cache
def discovery() -> dict:
    answer = ims.get(f"{IMS_BASE_URL}/ims/.well-known/openid-configuration")
    answer.raise_for_status()
    return answer.json()


def token_request(form: dict[str, str]) -> httpx.Response:
    return ims.post(discovery()["token_endpoint"], data=form, auth=(CLIENT_ID, CLIENT_SECRET))


def refresh(session: Session) -> bool:
    """Swaps the refresh token for new tokens. False when IMS no longer accepts it."""
    if not session.refresh_token:
        return False
    answer = token_request({"grant_type": "refresh_token", "refresh_token": session.refresh_token})
    if answer.status_code == 400:  # invalid_grant: revoked, expired or already used
        return False
    answer.raise_for_status()
    tokens = answer.json()
    session.access_token = tokens["access_token"]
    session.refresh_token = tokens.get("refresh_token", session.refresh_token)
    return True


def fetch_profile(session: Session) -> dict | None:
    """The IMS profile of the signed-in user, refreshing once on a 401. None: sign in again."""
    with session.lock:  # one refresh at a time for this session
        answer = ims.get(PROFILE_URL, headers={"Authorization": f"Bearer {session.access_token}"})
        if answer.status_code == 401:
            if not refresh(session):
                return None
            answer = ims.get(PROFILE_URL, headers={"Authorization": f"Bearer {session.access_token}"})
        answer.raise_for_status()
        return answer.json()


def revoke(token: str | None, hint: str) -> None:
    if not token:
        return
    try:
        ims.post(
            discovery()["revocation_endpoint"],
            data={"token": token, "token_type_hint": hint},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    except httpx.HTTPError as error:
        print(f"could not revoke the {hint} at IMS: {type(error).__name__}", file=sys.stderr)


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- Pages ---


def page_head(title: str) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
    )


def page(title: str, body: str, status: int = 200) -> Response:
    return Response(page_head(title) + body + "\n</body></html>\n", status=status, mimetype="text/html")


def user_section(user: dict) -> str:
    name = user.get("name") or user.get("displayName") or ""
    return (
        "<section id='user'>\n"
        f"<p>Signed in as <strong id='name'>{html.escape(name)}</strong></p>\n"
        f"<p>Email: <span id='email'>{html.escape(user.get('email', ''))}</span></p>\n"
        "</section>\n"
    )


def sign_out_form(session: Session) -> str:
    return (
        "<form method='post' action='/logout'>"
        f"<input type='hidden' name='csrf_token' value='{html.escape(session.csrf_token)}'>"
        "<button id='sign-out' type='submit'>Sign out</button></form>\n"
    )


def filler_paragraph(number: int) -> str:
    return (
        f"<p>Tip {number}: Lightroom keeps your edits separate from your originals, so you can "
        "always go back. Presets, masks and healing all sync across your devices once you sign "
        "in with the same Adobe account on each of them.</p>\n"
    )


def signed_in(view):
    """For pages that need a signed-in user: others are sent home."""

    @functools.wraps(view)
    def wrapper():
        session_id, session = current_session()
        if session is None or session.access_token is None:
            return redirect("/")
        if MISBEHAVE == "hang-protected":
            # Stuck, as if waiting for a lock nobody will release: never answers.
            threading.Event().wait()
        if MISBEHAVE == "exit-after-signin":
            # The sign-in has lost the session store and the process is about to exit (see
            # callback): whatever comes next is never answered, the connection just drops.
            threading.Event().wait()
        return view(session_id, session)

    return wrapper


@app.errorhandler(httpx.HTTPError)
@app.errorhandler(ValueError)
@app.errorhandler(KeyError)
def ims_failed(error: Exception) -> Response:
    print(f"IMS call failed: {type(error).__name__}", file=sys.stderr)
    return page("Adobe sign-in is unavailable", "<p>Please try again later. <a href='/'>Home</a></p>", 503)


@app.after_request
def access_log(response: Response) -> Response:
    # The path only: the callback's query string carries the authorization code.
    print(f"{request.method} {request.path} {response.status_code}", file=sys.stderr, flush=True)
    return response


@app.get("/")
def home() -> Response:
    _, session = current_session()
    if session is not None and session.access_token is not None:
        return page("Lightroom helper", "<p><a id='profile' href='/profile'>Your profile</a></p>")
    return page("Lightroom helper", "<p><a id='sign-in' href='/login'>Sign in with Adobe</a></p>")


@app.get("/login")
def login() -> Response:
    old_session_id, _ = current_session()
    forget_session(old_session_id)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    session_id = new_session(Session(state=state, code_verifier=verifier, started=time.time()))
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": SCOPES,
            "state": state,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    response = redirect(f"{discovery()['authorization_endpoint']}?{query}")
    return set_session_cookie(response, session_id)


@app.get(CALLBACK_PATH)
def callback() -> Response:
    session_id, session = current_session()
    expected_state = verifier = None
    if session is not None:
        with sessions_lock:  # a state is good for one callback only
            expected_state, session.state = session.state, None
            verifier, session.code_verifier = session.code_verifier, None
    given_state = request.args.get("state", "")
    if (
        session is None
        or not expected_state
        or not given_state
        or not secrets.compare_digest(expected_state, given_state)
        or time.time() - session.started > LOGIN_LIFETIME
    ):
        return page(
            "Sign-in failed", "<p>This sign-in link is not valid. <a href='/login'>Start again</a></p>", 400
        )
    if "error" in request.args:
        reason = html.escape(request.args.get("error", ""))
        return page("Sign-in cancelled", f"<p>Adobe said: {reason}. <a href='/'>Home</a></p>", 400)
    code = request.args.get("code")
    if not code:
        return page("Sign-in failed", "<p>Adobe sent no code. <a href='/login'>Start again</a></p>", 400)

    answer = token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier or "",
        }
    )
    if answer.status_code != 200:
        print(f"token endpoint answered {answer.status_code}", file=sys.stderr)
        return page("Sign-in failed", "<p>Adobe refused the sign-in. <a href='/login'>Try again</a></p>", 502)
    tokens = answer.json()

    forget_session(session_id)
    signed_in_session = Session(
        access_token=tokens["access_token"],
        refresh_token=tokens.get("refresh_token"),
        csrf_token=secrets.token_urlsafe(32),
    )
    response = set_session_cookie(redirect("/profile"), new_session(signed_in_session))

    if MISBEHAVE == "exit-after-signin":
        print("fatal: lost the session store", file=sys.stderr, flush=True)
        threading.Timer(0.2, os._exit, args=(3,)).start()  # time for the redirect to go out
    return response


@app.get("/profile")
@signed_in
def profile(session_id: str, session: Session) -> Response:
    user = fetch_profile(session)
    if user is None:
        forget_session(session_id)
        return page("Signed out", "<p>Your Adobe session has ended. <a href='/login'>Sign in again</a></p>")
    if MISBEHAVE == "cut-body":
        return cut_body_page(user, session)
    if MISBEHAVE == "huge-page":
        return huge_page(user, session)
    return page("Your Adobe profile", user_section(user) + sign_out_form(session))


@app.post("/logout")
@signed_in
def logout(session_id: str, session: Session) -> Response:
    if not secrets.compare_digest(request.form.get("csrf_token", ""), session.csrf_token):
        return page("Sign-out failed", "<p>Please use the sign-out button.</p>", 400)
    revoke(session.refresh_token, "refresh_token")
    revoke(session.access_token, "access_token")
    forget_session(session_id)
    response = redirect("/")
    response.delete_cookie(COOKIE_NAME)
    return response


# --- The misbehaving pages ---


def cut_body_page(user: dict, session: Session) -> Response:
    """Promises the whole page in Content-Length, sends the user part, then drops the connection."""
    full_page = (
        page_head("Your Adobe profile")
        + user_section(user)
        + sign_out_form(session)
        + "".join(filler_paragraph(number) for number in range(1, 41))
        + "</body></html>\n"
    ).encode("utf-8")
    sent_part = full_page[: full_page.index(b"</section>") + len(b"</section>\n")]
    raw_socket = request.environ.get("werkzeug.socket")

    def send_part_then_hang_up():
        yield sent_part
        # Hang up mid-body: shut the socket down so the client sees the connection end early.
        if raw_socket is not None:
            raw_socket.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError("cut-body: dropped the connection in the middle of /profile")

    response = Response(send_part_then_hang_up(), mimetype="text/html")
    response.headers["Content-Length"] = str(len(full_page))
    return response


def huge_page(user: dict, session: Session) -> Response:
    """A valid HTML page of about 50 MB: the user at the top, then filler paragraphs, streamed."""

    def generate():
        yield page_head("Your Adobe profile") + user_section(user) + sign_out_form(session)
        sent = 0
        number = 0
        while sent < HUGE_PAGE_BYTES:
            chunk = "".join(filler_paragraph(number + index) for index in range(1, 201))
            number += 200
            sent += len(chunk)
            yield chunk
        yield "</body></html>\n"

    return Response(generate(), mimetype="text/html")


def ignore_sigterm(signum, frame) -> None:
    print("got SIGTERM; ignoring it", file=sys.stderr, flush=True)


def start_stubborn_worker() -> None:
    """A child process that ignores SIGTERM too, and outlives this one if it is killed."""
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)",
        ]
    )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / "worker.pid").write_text(f"{worker.pid}\n")
    print(f"started worker process {worker.pid}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its access log would print the code
    if MISBEHAVE == "ignore-sigterm":
        signal.signal(signal.SIGTERM, ignore_sigterm)
        start_stubborn_worker()
    print(
        f"partner app on http://127.0.0.1:{PORT}/ (IMS {IMS_BASE_URL}, MISBEHAVE={MISBEHAVE or 'unset'})",
        file=sys.stderr,
        flush=True,
    )
    app.run(host="127.0.0.1", port=PORT, threaded=True)
