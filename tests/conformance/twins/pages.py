"""Twins whose pages are wrong: the secret or the tokens handed to the browser, the user not
shown, a crash on Deny."""

from __future__ import annotations

import json
import re
import secrets
from html import escape
from urllib.parse import urlsplit

from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from reference_client.config import Settings
from tests.conformance.twins.assembly import (
    Endpoint,
    app_of,
    current_tokens,
    page_html,
    rewritten,
    standard,
    wrap_route,
    wrapped,
)
from tests.conformance.twins.registry import twin


@twin(
    "secret-in-page",
    breaks="secret.not-in-browser",
    flaw="renders its IMS configuration, client secret included, into the profile page",
)
def secret_in_page(settings: Settings) -> ASGIApp:
    config = json.dumps({"clientId": settings.client_id, "clientSecret": settings.client_secret})

    async def with_config(request: Request, original: Endpoint) -> Response:
        response = await original(request)
        html = page_html(response)
        if html is None:
            return response
        script = f'<script type="application/json" id="ims-config">{escape(config, quote=False)}</script>'
        return rewritten(response, html.replace("</body>", f"{script}</body>"))

    return wrapped(settings, "/profile", with_config)


_PROFILE_LISTS = re.compile(r"<dl id=(?:ims-profile|lightroom-account)>.*?</dl>", re.DOTALL)


@twin("profile-hidden", breaks="profile.shown", flaw="the profile page says 'signed in' but not who")
def profile_hidden(settings: Settings) -> ASGIApp:
    async def anonymous(request: Request, original: Endpoint) -> Response:
        response = await original(request)
        html = page_html(response)
        if html is None:
            return response
        return rewritten(response, _PROFILE_LISTS.sub("<p id=signed-in>You are signed in.</p>", html))

    return wrapped(settings, "/profile", anonymous)


@twin("access-denied-crash", breaks="error.access-denied", flaw="reads ?code before ?error: 500 on Deny")
def access_denied_crash(settings: Settings) -> ASGIApp:
    async def code_first(request: Request, original: Endpoint) -> Response:
        request.query_params["code"]  # KeyError when IMS answers with an error: a 500
        return await original(request)

    callback = urlsplit(settings.redirect_uri or "/callback").path
    return wrapped(settings, callback, code_first)


def _tokens_doc(access_token: str, refresh_token: str | None) -> dict[str, str | None]:
    return {"access_token": access_token, "refresh_token": refresh_token}


@twin(
    "tokens-in-starlette-session",
    breaks="browser.no-tokens",
    flaw="keeps the tokens in Starlette's SessionMiddleware cookie (signed, not encrypted)",
)
def tokens_in_starlette_session(settings: Settings) -> ASGIApp:
    async def remember(request: Request, original: Endpoint) -> Response:
        response = await original(request)
        tokens = await current_tokens(request)
        if tokens is not None:
            request.session["ims"] = _tokens_doc(tokens.access_token, tokens.refresh_token)
        return response

    app = wrap_route(app_of(settings, standard(settings)), "/profile", remember)
    return SessionMiddleware(app, secret_key=secrets.token_urlsafe(32))


@twin(
    "tokens-in-local-storage",
    breaks="browser.no-tokens",
    flaw="hands the access token to a page script that keeps it in localStorage",
)
def tokens_in_local_storage(settings: Settings) -> ASGIApp:
    async def hand_over(request: Request, original: Endpoint) -> Response:
        response = await original(request)
        html = page_html(response)
        tokens = await current_tokens(request)
        if html is None or tokens is None:
            return response
        script = (
            f"<script>localStorage.setItem('adobe_access_token', {json.dumps(tokens.access_token)})</script>"
        )
        # The reference client's CSP forbids inline scripts; this twin's page needs one.
        return rewritten(
            response, html.replace("</body>", f"{script}</body>"), drop_headers=["content-security-policy"]
        )

    return wrapped(settings, "/profile", hand_over)
