"""Twins that hand a token or the secret to the browser somewhere other than a cookie or
localStorage: in the post-login URL (and so in a Referer), in the page, in IndexedDB, in Cache
Storage, split across cookies, in a response header."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from itertools import pairwise
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from reference_client.config import Settings
from reference_client.sessions import COOKIE_NAME
from reference_client.tokens import TokenSet
from tests.conformance.twins.assembly import (
    Endpoint,
    current_tokens,
    page_html,
    rewritten,
    wrap_route,
    wrapped,
)
from tests.conformance.twins.registry import twin

PageEdit = Callable[[Request, str, TokenSet], Awaitable[str]]


def _profile_twin(settings: Settings, edit: PageEdit, app: Starlette | None = None) -> ASGIApp:
    """The reference client (or `app`) whose profile page is rewritten by `edit`, its CSP and
    referrer policy dropped (what each of these pages does is what the reference client's forbid)."""

    async def rewrite(request: Request, original: Endpoint) -> Response:
        response = await original(request)
        html = page_html(response)
        tokens = await current_tokens(request)
        if html is None or tokens is None:
            return response
        return rewritten(
            response,
            await edit(request, html, tokens),
            drop_headers=["content-security-policy", "referrer-policy"],
        )

    if app is None:
        return wrapped(settings, "/profile", rewrite)
    return wrap_route(app, "/profile", rewrite)


async def _tokens_of_new_session(request: Request, response: Response) -> TokenSet | None:
    """The tokens of the session a sign-in response just set (its Set-Cookie), not the
    request's: the reference client issues a new session at sign-in."""
    jar: SimpleCookie = SimpleCookie()
    for name, value in response.raw_headers:
        if name.lower() == b"set-cookie":
            jar.load(value.decode("latin-1"))
    if COOKIE_NAME not in jar:
        return None
    scope = dict(request.scope)
    scope["headers"] = [(b"cookie", f"{COOKIE_NAME}={jar[COOKIE_NAME].value}".encode("latin-1"))]
    return await current_tokens(Request(scope))


def _redirecting_with_token(settings: Settings) -> Starlette:
    """After sign-in, the callback sends the browser to /profile?access_token=..."""
    callback = urlsplit(settings.redirect_uri or "/callback").path

    async def deep_link(request: Request, original: Endpoint) -> Response:
        response = await original(request)
        location = response.headers.get("location")
        tokens = await _tokens_of_new_session(request, response)
        if location is None or tokens is None:
            return response
        separator = "&" if "?" in location else "?"
        response.headers["location"] = (
            f"{location}{separator}{urlencode({'access_token': tokens.access_token})}"
        )
        return response

    return wrapped(settings, callback, deep_link)


@twin(
    "token-in-redirect-url",
    breaks="browser.no-tokens",
    flaw="sends the browser to /profile?access_token=... after sign-in (a 'deep link')",
)
def token_in_redirect_url(settings: Settings) -> ASGIApp:
    return _redirecting_with_token(settings)


@twin(
    "token-in-referer",
    breaks="browser.no-tokens",
    flaw="the /profile?access_token=... page loads a pixel from another origin with its full URL as Referer",
)
def token_in_referer(settings: Settings) -> ASGIApp:
    parts = urlsplit(settings.redirect_uri or "http://127.0.0.1/")
    # localhost and 127.0.0.1 are different origins: the pixel is a cross-origin request.
    other = f"{parts.scheme}://{'localhost' if parts.hostname != 'localhost' else '127.0.0.1'}:{parts.port}"

    async def with_pixel(request: Request, html: str, tokens: TokenSet) -> str:
        pixel = f'<img src="{other}/pixel.gif" alt="" referrerpolicy="unsafe-url" width="1" height="1">'
        return html.replace("</body>", f"{pixel}</body>")

    return _profile_twin(settings, with_pixel, _redirecting_with_token(settings))


@twin(
    "token-in-page",
    breaks="browser.no-tokens",
    flaw="puts the access token in a hidden form field of the profile page",
)
def token_in_page(settings: Settings) -> ASGIApp:
    async def hidden_field(request: Request, html: str, tokens: TokenSet) -> str:
        field = f'<form hidden><input type="hidden" name="access_token" value="{tokens.access_token}"></form>'
        return html.replace("</body>", f"{field}</body>")

    return _profile_twin(settings, hidden_field)


def _page_script(token: str, store: str) -> str:
    """A script that unscrambles `token` into `t` and runs `store` with it. The page carries the
    token backwards (no encoding the suite knows), so only the browser store shows it."""
    return f"<script>const t = {json.dumps(token[::-1])}.split('').reverse().join('');{store}</script>"


@twin(
    "token-in-indexeddb",
    breaks="browser.no-tokens",
    flaw="a page script keeps the access token in IndexedDB (the page carries it scrambled)",
)
def token_in_indexeddb(settings: Settings) -> ASGIApp:
    async def keep_in_indexeddb(request: Request, html: str, tokens: TokenSet) -> str:
        script = _page_script(
            tokens.access_token,
            "const o = indexedDB.open('lightroom', 1);"
            "o.onupgradeneeded = () => o.result.createObjectStore('auth');"
            "o.onsuccess = () => o.result.transaction('auth', 'readwrite').objectStore('auth')"
            ".put({token: t, at: Date.now()}, 'session');",
        )
        return html.replace("</body>", f"{script}</body>")

    return _profile_twin(settings, keep_in_indexeddb)


@twin(
    "token-in-cache-storage",
    breaks="browser.no-tokens",
    flaw="a page script caches an API response holding the access token in Cache Storage",
)
def token_in_cache_storage(settings: Settings) -> ASGIApp:
    async def keep_in_cache(request: Request, html: str, tokens: TokenSet) -> str:
        script = _page_script(
            tokens.access_token,
            "caches.open('api').then(c => c.put('/api/me', new Response(JSON.stringify({token: t}))));",
        )
        return html.replace("</body>", f"{script}</body>")

    return _profile_twin(settings, keep_in_cache)


def _split_points(token: str) -> list[int]:
    """Cut points inside the payload and the signature, so no piece holds a whole segment."""
    header, payload, _ = token.split(".")
    middle_of_payload = len(header) + 1 + len(payload) // 2
    middle_of_signature = len(header) + len(payload) + 2 + (len(token) - len(header) - len(payload) - 2) // 2
    return [0, middle_of_payload, middle_of_signature, len(token)]


@twin(
    "tokens-split-cookies",
    breaks="browser.no-tokens",
    flaw="keeps the access token in three cookies (lr_at.0, lr_at.1, lr_at.2), a third in each",
)
def tokens_split_cookies(settings: Settings) -> ASGIApp:
    async def in_cookies(request: Request, original: Endpoint) -> Response:
        response = await original(request)
        tokens = await current_tokens(request)
        if tokens is None or response.status_code != 200:
            return response
        cuts = _split_points(tokens.access_token)
        for index, (start, end) in enumerate(pairwise(cuts)):
            response.set_cookie(
                f"lr_at.{index}", tokens.access_token[start:end], httponly=True, samesite="lax"
            )
        return response

    return wrapped(settings, "/profile", in_cookies)


@twin(
    "secret-in-response-header",
    breaks="secret.not-in-browser",
    flaw="echoes its client secret in a debugging response header",
)
def secret_in_response_header(settings: Settings) -> ASGIApp:
    async def debug_header(request: Request, original: Endpoint) -> Response:
        response = await original(request)
        response.headers["x-debug-ims-client"] = f"{settings.client_id}:{settings.client_secret}"
        return response

    return wrapped(settings, "/profile", debug_header)
