"""`create_app`: the Starlette application of one mock IMS, built from explicit settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_ims.control.admin.common import AdminError, admin_error_response
from mock_ims.control.admin.guard import AdminGuard
from mock_ims.control.admin.routes import admin_routes
from mock_ims.control.dashboard import dashboard_routes
from mock_ims.control.openapi import openapi
from mock_ims.endpoints.authorize import authorize, login
from mock_ims.endpoints.discovery import discovery, keys, not_found
from mock_ims.endpoints.lightroom import lightroom_routes
from mock_ims.endpoints.logout import logout
from mock_ims.endpoints.revoke import revoke
from mock_ims.endpoints.token import token
from mock_ims.endpoints.userinfo import profile, userinfo
from mock_ims.endpoints.validate import validate_token
from mock_ims.serving.direct import DirectRoutes
from mock_ims.serving.limits import HeaderLimit
from mock_ims.state.context import Context, Settings
from mock_ims.state.purge import purge_periodically

logger = logging.getLogger("mock_ims")

GET = ["GET"]
GET_POST = ["GET", "POST"]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})


def ims_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for version in ("/v2", "/v1", ""):
        routes.append(Route(f"/ims/authorize{version}", authorize, methods=GET_POST))
    for version in ("/v3", "/v2", "/v1", ""):
        routes.append(Route(f"/ims/token{version}", token, methods=GET_POST))
    for version in ("/v2", "/v1", ""):
        routes.append(Route(f"/ims/userinfo{version}", userinfo, methods=GET_POST))
    routes += [
        Route("/ims/login", login, methods=["POST"]),
        Route("/ims/profile/v1", profile, methods=GET),
        Route("/ims/revoke", revoke, methods=GET_POST),
        Route("/ims/logout/v1", logout, methods=GET_POST),
        Route("/ims/validate_token/v1", validate_token, methods=GET_POST),
        Route("/ims/keys", keys, methods=GET),
        Route("/ims/.well-known/openid-configuration", discovery, methods=GET),
        Route("/.well-known/openid-configuration", discovery, methods=GET),
        Route("/openapi.json", openapi, methods=GET),
        Route("/ims/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]
    return routes


class LazyStartup:
    """Run the context's start-up on the first request if no lifespan event did."""

    def __init__(self, app: ASGIApp, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.ctx.started:
            await self.ctx.ensure_started()
        await self.app(scope, receive, send)


class HostGuard:
    """Refuse requests whose Host is not this mock's (DNS rebinding against a loopback mock)."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str] | None) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.allowed is not None:
            hosts = [value.decode("latin-1").lower() for name, value in scope["headers"] if name == b"host"]
            if len(hosts) > 1:
                # RFC 9112 §3.2: more than one Host is a 400; reading only the first would let a
                # second one past the check in any proxy that reads the last.
                response = JSONResponse(
                    {"error": "bad_request", "detail": "more than one Host header (RFC 9112 §3.2)"},
                    status_code=400,
                )
                await response(scope, receive, send)
                return
            host = hosts[0] if hosts else ""
            hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if hostname and hostname not in self.allowed:
                response = JSONResponse(
                    {"error": "misdirected_request", "detail": f"this mock does not serve host {hostname!r}"},
                    status_code=421,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Never a traceback to the client; the log has it.
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": "server_error", "error_description": "the mock hit an unexpected error; see its log"},
        status_code=500,
    )


async def _no_route(request: Request, exc: Exception) -> Response:
    """A path no route matches, answered in the shape of the part of the mock it is under.

    Paths with a line break in a `{...:path}` parameter escape the catch-all routes (their
    pattern does not match newlines), so they end here too."""
    path = request.url.path
    if path == "/__admin" or path.startswith("/__admin/"):
        return admin_error_response(AdminError(f"no control-plane endpoint at {path}", 404, "not_found"))
    if path.startswith("/ims/"):
        return await not_found(request)  # journalled, as any unknown IMS path
    return PlainTextResponse("Not Found", status_code=404)


async def _admin_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, AdminError):  # pragma: no cover - registered for AdminError only
        raise exc
    return admin_error_response(exc)


def create_app(settings: Settings, *, context: Context | None = None) -> Starlette:
    ctx = context or Context(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await ctx.startup()
        purger = asyncio.create_task(purge_periodically(ctx))
        try:
            yield
        finally:
            purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purger
            await ctx.store.close()

    app = Starlette(
        routes=ims_routes() + lightroom_routes() + admin_routes() + dashboard_routes(),
        middleware=[
            Middleware(HeaderLimit),
            Middleware(AdminGuard, token=settings.admin_token),
            Middleware(LazyStartup, ctx=ctx),
        ],
        exception_handlers={404: _no_route, AdminError: _admin_error, Exception: _unexpected},
        lifespan=lifespan,
    )
    app.state.ims = ctx
    return app


def guarded(app: Starlette, settings: Settings) -> ASGIApp:
    """The app as a server runs it: IMS endpoints dispatched directly (mock_ims/serving/direct.py),
    behind the Host check unless the mock is meant to be reached remotely."""
    # HeaderLimit again in front: direct requests do not pass the app's middleware.
    direct = HeaderLimit(DirectRoutes(app, [route for route in ims_routes() if isinstance(route, Route)]))
    if settings.allow_remote:
        return direct
    return HostGuard(direct, LOOPBACK_HOSTS | frozenset(h.lower() for h in settings.extra_hosts))
