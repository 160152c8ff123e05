"""Twins whose signed-in session is weak: it is the one from before sign-in, its cookie is open
to scripts, or any site can end it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from reference_client.config import Settings
from reference_client.endpoints import components
from reference_client.sessions import COOKIE_NAME, Session, SessionStore
from tests.conformance.twins.assembly import app_of, standard
from tests.conformance.twins.registry import twin
from tests.conformance.twins.states import SessionKeptAtSignIn


def _with_sessions(settings: Settings, kind: type[SessionStore]) -> ASGIApp:
    parts = standard(settings)
    parts.sessions = kind(parts.database, parts.clock, secure_cookies=settings.secure_cookies)
    return app_of(settings, parts)


class ScriptReadableCookie(SessionStore):
    def set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(COOKIE_NAME, session.id, path="/", httponly=False, samesite="lax")


@twin("session-fixed", breaks="session.fixation", flaw="keeps the pre-sign-in session id and signs it in")
def session_fixed(settings: Settings) -> ASGIApp:
    return _with_sessions(settings, SessionKeptAtSignIn)


@twin(
    "session-cookie-script-readable",
    breaks="session.cookie-flags",
    flaw="sets its session cookie without HttpOnly",
)
def session_cookie_script_readable(settings: Settings) -> ASGIApp:
    return _with_sessions(settings, ScriptReadableCookie)


async def _logout_on_get(request: Request) -> Response:
    """What the reference client's POST /logout does, without the CSRF token, on a GET."""
    parts = components(request)
    session = await parts.sessions.load(request)
    if session is not None:
        if session.user_id is not None:
            await parts.tokens.sign_out(session.user_id)
            await parts.sessions.end_all_of(session.user_id)
        await parts.sessions.end(session)
    response = RedirectResponse("/", status_code=303)
    parts.sessions.clear_cookie(response)
    return response


@twin("logout-by-get", breaks="logout.csrf", flaw="signs the user out on a plain GET /logout, from any site")
def logout_by_get(settings: Settings) -> ASGIApp:
    app = app_of(settings, standard(settings))
    app.router.routes.insert(0, Route("/logout", _logout_on_get, methods=["GET"]))
    return app
