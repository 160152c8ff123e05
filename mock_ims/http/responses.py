"""Turning errors into answers, in one place (the way Starlette maps exceptions)."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.responses import JSONResponse, RedirectResponse, Response

from mock_ims.http import pages
from mock_ims.protocol.errors import (
    AuthorizationRedirect,
    ErrorPage,
    InsufficientScopeError,
    InvalidTokenError,
    MethodNotAllowedError,
    OAuthError,
)

# RFC 6749 §5.1: token responses (and their errors) must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class MissingTokenError(InvalidTokenError):
    """RFC 6750 §3.1: no credentials at all; the challenge carries no error code."""


def json_error(error: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if isinstance(error, MethodNotAllowedError):
        headers["Allow"] = error.allow
    if isinstance(error, MissingTokenError):
        headers["WWW-Authenticate"] = 'Bearer realm="ims"'
    elif isinstance(error, InvalidTokenError | InsufficientScopeError):
        description = error.description.replace('"', "'")
        headers["WWW-Authenticate"] = (
            f'Bearer realm="ims", error="{error.error}", error_description="{description}"'
        )
    return JSONResponse(error.body(), status_code=error.status_code, headers=headers)


def with_params(uri: str, params: dict[str, str], mode: str = "query") -> str:
    """Add parameters to a redirect URI's query (keeping what it has) or fragment."""
    parts = urlsplit(uri)
    encoded = urlencode(params)
    if mode == "fragment":
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, encoded))
    query = f"{parts.query}&{encoded}" if parts.query else encoded
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def redirect(location: str) -> RedirectResponse:
    return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})


def authorization_error_redirect(exc: AuthorizationRedirect) -> RedirectResponse:
    params = {"error": exc.error.error, "error_description": exc.error.description}
    if exc.state is not None:
        params["state"] = exc.state
    return redirect(with_params(exc.redirect_uri, params, exc.response_mode))


def error_response(exc: Exception) -> Response:
    if isinstance(exc, AuthorizationRedirect):
        return authorization_error_redirect(exc)
    if isinstance(exc, ErrorPage):
        return pages.error_page(exc.message, exc.status_code)
    if isinstance(exc, OAuthError):
        return json_error(exc)
    raise TypeError(f"not an answerable error: {exc!r}")
