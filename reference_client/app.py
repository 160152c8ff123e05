"""`create_app`: the reference client's Starlette application, built from explicit settings."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_client import endpoints, pages
from reference_client.components import Components
from reference_client.config import ConfigError, Settings
from reference_client.errors import LoginRequired, PageError, ServiceUnavailable
from reference_client.upstream import UpstreamUnavailable

logger = logging.getLogger("reference_client")
access_logger = logging.getLogger("reference_client.access")


def routes(callback_path: str = "/callback") -> list[Route]:
    """The routes; the callback lives wherever the registered redirect URI points."""
    return [
        Route("/", endpoints.home, methods=["GET"]),
        Route("/login", endpoints.login, methods=["GET"]),
        Route(callback_path, endpoints.callback, methods=["GET"]),
        Route("/profile", endpoints.profile, methods=["GET"]),
        Route("/logout", endpoints.logout, methods=["POST"]),
        Route("/healthz", endpoints.health, methods=["GET"]),
    ]


class AccessLog:
    """Method, path and status of each request. Never the query string: /callback's carries the
    authorization code, and codes are credentials too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            access_logger.info(
                "%s %s %s %.0fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )


async def _page_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, PageError):  # pragma: no cover - registered for PageError only
        raise exc
    return pages.error(exc)


async def _unavailable(request: Request, exc: Exception) -> Response:
    detail = exc.detail if isinstance(exc, UpstreamUnavailable) else "no answer"
    service = exc.service if isinstance(exc, UpstreamUnavailable) else "Adobe"
    logger.warning("%s unavailable on %s: %s", service, request.url.path, detail)
    return pages.error(
        ServiceUnavailable(f"Adobe {service} is not answering properly ({detail}). Please try again soon.")
    )


async def _login_required(request: Request, exc: Exception) -> Response:
    return endpoints.redirect("/?notice=session-ended")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # A bug, not an IMS problem: a plain page, never a traceback; the log has the details.
    logger.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.url.path)
    return pages.unexpected()


def create_app(settings: Settings, *, components: Components | None = None) -> Starlette:
    """The app; `components` replaces the standard collaborators (see `Components.build`)."""
    if settings.redirect_uri is None:
        raise ConfigError(["REDIRECT_URI: not known yet; bind the server first (Settings.bound_to)"])
    parts = components or Components.build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await parts.aclose()

    app = Starlette(
        routes=routes(urlsplit(settings.redirect_uri).path),
        middleware=[Middleware(AccessLog)],
        exception_handlers={
            PageError: _page_error,
            UpstreamUnavailable: _unavailable,
            LoginRequired: _login_required,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    app.state.components = parts
    return app
