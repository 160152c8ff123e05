"""Putting a twin together: the standard components with some replaced, and routes wrapped."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from reference_client.app import create_app
from reference_client.components import Components
from reference_client.config import Settings
from reference_client.endpoints import components
from reference_client.ims import IMSClient
from reference_client.tokens import TokenSet

Endpoint = Callable[[Request], Awaitable[Response]]
Wrapper = Callable[[Request, Endpoint], Awaitable[Response]]


def standard(settings: Settings) -> Components:
    return Components.build(settings)


def with_ims(parts: Components, ims: IMSClient) -> Components:
    """`ims` replaces the IMS client everywhere it is used."""
    parts.ims = parts.tokens.ims = parts.id_tokens.ims = ims
    return parts


def app_of(settings: Settings, parts: Components) -> Starlette:
    return create_app(settings, components=parts)


def wrapped(settings: Settings, path: str, wrapper: Wrapper) -> Starlette:
    """The standard reference client with `path` routed through `wrapper`."""
    return wrap_route(app_of(settings, standard(settings)), path, wrapper)


def wrap_route(app: Starlette, path: str, wrapper: Wrapper) -> Starlette:
    """Route `path` through `wrapper(request, original_endpoint)`."""
    for index, route in enumerate(app.router.routes):
        if isinstance(route, Route) and route.path == path:
            app.router.routes[index] = Route(
                path, _wrapped(route.endpoint, wrapper), methods=list(route.methods or ["GET"])
            )
            return app
    raise LookupError(f"the app has no route {path}")


def _wrapped(original: Endpoint, wrapper: Wrapper) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return await wrapper(request, original)

    return endpoint


def rewritten(response: Response, html: str, *, drop_headers: Iterable[str] = ()) -> HTMLResponse:
    """`response` with another HTML body (and without the named headers); every other header,
    repeated ones included, is kept."""
    dropped = {b"content-length", b"content-type", *(h.lower().encode("latin-1") for h in drop_headers)}
    replacement = HTMLResponse(html, status_code=response.status_code)
    kept = [(k, v) for k, v in response.raw_headers if k.lower() not in dropped]
    replacement.raw_headers = [*kept, *replacement.raw_headers]
    return replacement


def page_html(response: Response) -> str | None:
    """The HTML of a successful page, or None for anything else (a redirect, an error)."""
    if response.status_code != 200 or not isinstance(response, HTMLResponse):
        return None
    return bytes(response.body).decode("utf-8")


async def current_tokens(request: Request) -> TokenSet | None:
    """The signed-in user's tokens, as the app keeps them."""
    parts = components(request)
    session = await parts.sessions.load(request)
    if session is None or session.user_id is None:
        return None
    stored = await parts.token_store.load(session.user_id)
    return stored.tokens if stored else None
