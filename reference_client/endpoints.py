"""The routes: `/`, `/login`, `/callback`, `/profile`, `/logout`, `/healthz`.

Each is a plain `async def endpoint(request) -> Response`; errors are raised and turned into
pages in one place (`app.py`).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from reference_client import pages
from reference_client.components import Components
from reference_client.errors import (
    AccessTokenRejected,
    AuthorizationDenied,
    AuthorizationFailed,
    CsrfRejected,
    IdTokenRejected,
    LoginRequired,
    LoginStateError,
    ServiceUnavailable,
    TokenExchangeFailed,
)
from reference_client.ims import IMSRefused
from reference_client.sessions import Session
from reference_client.state import StateProblem, StateRejected
from reference_client.token_manager import parse_token_response
from reference_client.upstream import UpstreamUnavailable

logger = logging.getLogger("reference_client")

NO_STORE = {"Cache-Control": "no-store"}
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")

STATE_MESSAGES = {
    StateProblem.MISSING: "The sign-in response carried no state, so it cannot be trusted. Please sign in again.",
    StateProblem.UNKNOWN: "The sign-in response does not belong to a sign-in started here. Please sign in again.",
    StateProblem.EXPIRED: "The sign-in took too long and has expired. Please sign in again.",
    StateProblem.REUSED: "This sign-in response was already used. Please sign in again.",
    StateProblem.OTHER_SESSION: (
        "This sign-in response belongs to a sign-in started in another browser. Please sign in again."
    ),
}


def components(request: Request) -> Components:
    found: Components = request.app.state.components
    return found


def redirect(location: str, status_code: int = 303) -> RedirectResponse:
    return RedirectResponse(location, status_code=status_code, headers=NO_STORE)


async def home(request: Request) -> Response:
    c = components(request)
    session = await c.sessions.load(request)
    return pages.home(
        signed_in=session is not None and session.signed_in, notice=request.query_params.get("notice")
    )


def _canonical_login(request: Request, redirect_uri: str) -> Response | None:
    """Send the browser to the redirect URI's host before the login starts: the session cookie
    is per host, and a login begun on 127.0.0.1 cannot finish on localhost."""
    target = urlsplit(redirect_uri)
    if request.url.netloc == target.netloc or request.query_params.get("canonical"):
        return None  # `canonical` stops a loop behind a proxy that rewrites Host
    return redirect(f"{target.scheme}://{target.netloc}/login?canonical=1", status_code=302)


async def login(request: Request) -> Response:
    """Start the authorization code flow (RFC 6749 §4.1.1) with state, nonce and PKCE S256."""
    c = components(request)
    moved = _canonical_login(request, c.ims.redirect_uri)
    if moved is not None:
        return moved
    session = await c.sessions.load(request) or await c.sessions.create()
    pending = await c.states.begin(session)
    response = redirect(await c.ims.authorize_url(pending), status_code=302)
    c.sessions.set_cookie(response, session)
    return response


def _authorization_error(params: Any) -> AuthorizationFailed | AuthorizationDenied:
    error = str(params.get("error"))
    if error == "access_denied":
        return AuthorizationDenied(
            "You chose not to allow this app to use your Adobe account. Nothing was shared."
        )
    # The code only, never the description: the query string is anyone's to write.
    shown = error if _ERROR_CODE.fullmatch(error) else "unknown"
    return AuthorizationFailed(f"Adobe answered the sign-in with the error code {shown}. Please try again.")


async def callback(request: Request) -> Response:
    """The redirect back from IMS (RFC 6749 §4.1.2): state first, then the code."""
    c = components(request)
    params = request.query_params
    session = await c.sessions.load(request)
    if "error" in params:
        # Spend the state if it is ours; the error page follows whatever the state says, since
        # nothing is redeemed on this path.
        with contextlib.suppress(StateRejected):
            await c.states.consume(session, params.get("state"))
        raise _authorization_error(params)
    try:
        pending = await c.states.consume(session, params.get("state"))
    except StateRejected as exc:
        logger.warning("refused a callback: state %s", exc.problem.value)
        raise LoginStateError(STATE_MESSAGES[exc.problem]) from None
    code = params.get("code")
    if not code:
        raise AuthorizationFailed("Adobe sent no authorization code. Please sign in again.")
    try:
        body = await c.ims.redeem_code(code, pending)
    except IMSRefused as exc:
        raise TokenExchangeFailed(
            f"Adobe refused to complete the sign-in ({exc.error}). Please sign in again."
        ) from None
    tokens = parse_token_response(body, c.clock.now_ms())
    id_token = body.get("id_token")
    try:
        if not isinstance(id_token, str) or not id_token:
            raise IdTokenRejected("Adobe sent no ID token, so the sign-in cannot be verified.")
        identity = await c.id_tokens.validate(id_token, nonce=pending.nonce)
    except IdTokenRejected:
        await c.tokens.revoke(tokens)  # tokens of a sign-in we do not trust are not kept
        raise
    await c.tokens.start(identity.user_id, tokens)
    signed_in = await c.sessions.sign_in(session, identity.user_id)
    response = redirect("/profile")
    c.sessions.set_cookie(response, signed_in)
    return response


async def _settled(work: dict[str, Callable[[], Awaitable[Any]]]) -> dict[str, Any]:
    """Run the calls concurrently; each name maps to its result or the exception it raised."""
    results: dict[str, Any] = {}

    async def run(name: str, call: Callable[[], Awaitable[Any]]) -> None:
        try:
            results[name] = await call()
        except Exception as exc:  # kept for the caller to judge, one by one
            results[name] = exc

    async with anyio.create_task_group() as group:
        for name, call in work.items():
            group.start_soon(run, name, call)
    return results


async def _session_ended(c: Components, session: Session, reason: str) -> Response:
    logger.info("sending a user to sign in again: %s", reason)
    await c.sessions.end(session)
    response = redirect("/?notice=session-ended")
    c.sessions.clear_cookie(response)
    return response


def _ims_failure(exc: Exception) -> Exception:
    """What to show when the IMS profile could not be fetched."""
    if isinstance(exc, UpstreamUnavailable):
        return ServiceUnavailable(
            f"Adobe IMS is not answering properly ({exc.detail}). Please try again soon."
        )
    if isinstance(exc, IMSRefused):
        return ServiceUnavailable(f"Adobe IMS refused to renew your sign-in ({exc.error}).")
    return exc


def _lightroom_outcome(outcome: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The account, or the note that says why there is none (Lightroom is not worth an error page)."""
    if isinstance(outcome, AccessTokenRejected):
        return None, "Lightroom refused your access token, even a freshly renewed one."
    if isinstance(outcome, UpstreamUnavailable):
        return None, f"Lightroom is unavailable right now ({outcome.detail})."
    if isinstance(outcome, IMSRefused):
        return None, f"Adobe IMS refused to renew your sign-in for Lightroom ({outcome.error})."
    if isinstance(outcome, Exception):
        raise outcome
    return outcome, None


async def profile(request: Request) -> Response:
    """The IMS profile and the Lightroom account, fetched together with one access token."""
    c = components(request)
    session = await c.sessions.load(request)
    if session is None or session.user_id is None:
        return redirect("/")
    user_id = session.user_id
    results = await _settled(
        {
            "ims": lambda: c.tokens.call(user_id, c.ims.profile),
            "lightroom": lambda: c.tokens.call(user_id, c.lightroom.account),
        }
    )
    for outcome in results.values():
        if isinstance(outcome, LoginRequired):
            return await _session_ended(c, session, outcome.reason)
    ims_profile = results["ims"]
    if isinstance(ims_profile, AccessTokenRejected):
        # Refused even right after a refresh: these tokens are no good.
        await c.token_store.delete(user_id)
        return await _session_ended(c, session, str(ims_profile))
    if isinstance(ims_profile, Exception):
        raise _ims_failure(ims_profile)
    account, note = _lightroom_outcome(results["lightroom"])
    return pages.profile(
        ims_profile=ims_profile, lightroom_account=account, lightroom_note=note, csrf_token=session.csrf_token
    )


async def logout(request: Request) -> Response:
    """POST only, with the session's CSRF token: revoke at IMS (RFC 7009), delete, end the session."""
    c = components(request)
    session = await c.sessions.load(request)
    if session is None:
        return redirect("/")
    form = await request.form()
    presented = form.get("csrf_token")
    if not session.csrf_matches(presented if isinstance(presented, str) else None):
        raise CsrfRejected("The sign-out request did not come from this app's own page.")
    revoked = True
    if session.user_id is not None:
        revoked = await c.tokens.sign_out(session.user_id)
        await c.sessions.end_all_of(session.user_id)
    await c.sessions.end(session)
    response = redirect("/?notice=" + ("signed-out" if revoked else "signed-out-unrevoked"))
    c.sessions.clear_cookie(response)
    return response


async def health(request: Request) -> Response:
    return PlainTextResponse("ok", headers=NO_STORE)
