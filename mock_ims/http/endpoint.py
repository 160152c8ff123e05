"""`ims_endpoint`: what every IMS endpoint does around its own logic.

It reads the parameters strictly, answers errors in the one central way, and journals the
request with its outcome and reason, whatever happened.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import Response

from mock_ims.http.params import Params, header_map, read_params
from mock_ims.http.responses import error_response
from mock_ims.protocol.errors import AuthorizationRedirect, ErrorPage, OAuthError
from mock_ims.state import faults
from mock_ims.state.cached import one_revision
from mock_ims.state.context import context
from mock_ims.state.journal import FAULT, OK, REFUSED, Event, kept_headers, mask_params

Handler = Callable[[Request, Params, Event], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]
ErrorRenderer = Callable[[Exception], Response]

_VERSION = re.compile(r"v\d+")


def request_path(request: Request) -> str:
    """`request.url.path` without building the whole URL (Starlette escapes these three)."""
    path: str = request.scope["path"]
    return path.replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")


def _version(path: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return last if _VERSION.fullmatch(last) else ""


def _describe(exc: Exception) -> tuple[str | None, str]:
    if isinstance(exc, AuthorizationRedirect):
        return exc.error.error, exc.error.reason
    if isinstance(exc, OAuthError):
        return exc.error, exc.reason
    if isinstance(exc, ErrorPage):
        return None, exc.reason
    return None, str(exc)


def mask_location(location: str) -> str:
    """A redirect target with codes and tokens in its query or fragment masked."""
    parts = urlsplit(location)

    def masked(text: str) -> str:
        if not text:
            return text
        return urlencode(mask_params(dict(parse_qsl(text, keep_blank_values=True))))

    return urlunsplit((parts.scheme, parts.netloc, parts.path, masked(parts.query), masked(parts.fragment)))


async def _answer(
    request: Request, headers: Mapping[str, str], handler: Handler, event: Event, name: str, browser: bool
) -> Response:
    """Read the parameters, play any matching fault, then run the endpoint's own logic."""
    ctx = context(request)
    params_error: OAuthError | None = None
    try:
        params = await read_params(request, headers)
    except OAuthError as exc:
        params, params_error = Params(), exc  # a fault (e.g. ims-down) still takes precedence
    event.params = dict(params.values)
    event.param_sources = dict(params.sources)
    event.client_id = params.get("client_id") or (params.basic[0] if params.basic else None)
    event.grant_type = params.get("grant_type")
    rule = await ctx.faults.take(name, event.client_id, event.grant_type)
    if rule is not None:
        event.fault = rule.id
        answer = await faults.apply(rule, request)
        if answer is not None:
            event.outcome = FAULT
            event.reason = f"injected fault {rule.id}" + (
                f" (scenario {rule.scenario})" if rule.scenario else ""
            )
            return answer
        event.note(f"delayed {rule.delay:g}s by fault {rule.id}")
    if params_error is not None:
        if browser:
            # A page the user sees: nothing can be redirected safely yet (RFC 6749 §4.1.2.1 ¶1).
            raise ErrorPage(
                params_error.description, status_code=params_error.status_code, reason=params_error.reason
            ) from params_error
        raise params_error
    return await handler(request, params, event)


def ims_endpoint(
    name: str, *, browser: bool = False, render: ErrorRenderer = error_response
) -> Callable[[Handler], Endpoint]:
    """Wrap a handler; `browser` endpoints (a page the user sees) answer unreadable
    parameters with the HTML error page instead of JSON; `render` turns errors into answers
    (the Lightroom stub answers in Lightroom's shape)."""

    def decorate(handler: Handler) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            ctx = context(request)
            path = request_path(request)
            headers = header_map(request)
            event = Event(
                endpoint=name,
                method=request.method,
                path=path,
                version=_version(path),
                headers=kept_headers(headers),
            )
            async with one_revision(ctx.store):
                try:
                    response = await _answer(request, headers, handler, event, name, browser)
                except (OAuthError, AuthorizationRedirect, ErrorPage) as exc:
                    response = render(exc)
                    event.refuse(*_describe(exc))
                event.status = response.status_code
                if event.outcome == OK and response.status_code >= 400:
                    event.outcome = REFUSED
                location = response.headers.get("location")
                if location:
                    event.location = mask_location(location)
                await ctx.journal.record(event, await ctx.now_ms())
            return response

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return decorate
