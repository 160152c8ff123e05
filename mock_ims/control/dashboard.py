"""The dashboard at `/`: what the mock saw and issued, with buttons to move its clock and
clear its journal.

`GET /` only reads. The buttons are forms POSTing to `/__admin/ui/clock` and
`/__admin/ui/clear-journal`; like the login form, they are bound to the browser by a
SameSite=Strict cookie that must match a hidden field, and a cross-site Origin or
Sec-Fetch-Site is refused. With `--admin-token`, `mock_ims.control.admin.guard` asks for the token
(HTTP Basic, any user name, so a browser can send it), as for the admin API.
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from mock_ims.control.dashboard_view import FILTER_NAMES, OUTCOMES, DashboardView, template_context
from mock_ims.http.params import read_params
from mock_ims.http.templating import PAGE_HEADERS, page
from mock_ims.protocol.bodies import MAX_ADVANCE_SECONDS
from mock_ims.protocol.errors import OAuthError
from mock_ims.state.clock import ClockRangeError
from mock_ims.state.context import Context, context, new_secret
from mock_ims.state.journal import JournalFilter

CSRF_COOKIE = "mock_ims_dashboard_csrf"
CSRF_COOKIE_PATH = "/__admin/ui"
DISPLAY_LIMIT = 200
MAX_FILTER_LENGTH = 256
MAX_REFRESH_SECONDS = 3600


class DashboardError(Exception):
    """A refused dashboard request, answered with a small HTML page."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code

    def response(self, request: Request) -> HTMLResponse:
        title = "Not allowed" if self.status_code == 403 else "Bad request"
        context = {"title": title, "message": self.message}
        return page(request, "dashboard_message.html", context, status_code=self.status_code)


# ---- who sent the form ----------------------------------------------------------------


def csrf_token(request: Request) -> tuple[str, bool]:
    """The browser's dashboard CSRF token, and whether it is new (then the cookie is set)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and 20 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum():
        return existing, False
    return new_secret(), True


def check_same_origin(request: Request, form_token: str | None) -> None:
    """Double-submit cookie, plus the browser's own word on where the form came from."""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    form_token = form_token or ""
    if not cookie or not form_token or not hmac.compare_digest(cookie.encode(), form_token.encode()):
        raise DashboardError("The form did not come from this browser's dashboard (CSRF check failed).", 403)
    origin = request.headers.get("origin")
    # The page sends Referrer-Policy: no-referrer, so Chromium posts its forms with Origin: null.
    if origin and origin != "null" and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise DashboardError(f"Cross-site request refused (Origin {origin}).", 403)
    site = request.headers.get("sec-fetch-site")
    if site and site != "same-origin":
        raise DashboardError(f"Cross-site request refused (Sec-Fetch-Site {site}).", 403)


# ---- reading the page's query -------------------------------------------------------------


def read_filters(query: Mapping[str, str]) -> dict[str, str]:
    filters = {}
    for name in FILTER_NAMES:
        value = (query.get(name) or "").strip()
        if value:
            filters[name] = value[:MAX_FILTER_LENGTH]
    return filters


def read_refresh(value: str | None) -> int | None:
    # str.isdigit() is also true for "¹" and other digits int() refuses.
    if not value or not (value.isascii() and value.isdigit()) or len(value) > 5:
        return None
    seconds = int(value)
    return seconds if 1 <= seconds <= MAX_REFRESH_SECONDS else None


def view_query(filters: Mapping[str, str], refresh: int | None) -> str:
    """The query string that shows this view again (the forms come back to it)."""
    pairs = [(name, filters[name]) for name in FILTER_NAMES if filters.get(name)]
    if refresh:
        pairs.append(("refresh", str(refresh)))
    return urlencode(pairs)


def back_to(return_to: str | None) -> str:
    """The page to go back to: `/` with only the view's own parameters (never elsewhere)."""
    back = dict(parse_qsl((return_to or "")[:2048]))
    query = view_query(read_filters(back), read_refresh(back.get("refresh")))
    return f"/?{query}" if query else "/"


def parse_seconds(text: str | None) -> float:
    if text is None or not text.strip():
        raise DashboardError("seconds: missing; give a number of seconds (negative goes back).")
    try:
        seconds = float(text.strip())
    except ValueError:
        raise DashboardError(f"seconds: {text[:40]!r} is not a number.") from None
    if not math.isfinite(seconds) or abs(seconds) > MAX_ADVANCE_SECONDS:
        raise DashboardError(f"seconds: must be a finite number of at most {MAX_ADVANCE_SECONDS} in size.")
    return seconds


# ---- the page -------------------------------------------------------------------------------


async def gather(ctx: Context, filters: Mapping[str, str], refresh: int | None, csrf: str) -> DashboardView:
    clock = await ctx.clock.describe()
    now_ms = int(str(clock["now_ms"]))
    entries = await ctx.journal.entries()
    query = JournalFilter(
        endpoint=filters.get("endpoint"),
        client_id=filters.get("client"),
        user_id=filters.get("user"),
        outcome=filters.get("outcome"),
    )
    matching = [entry for entry in reversed(entries) if query.accepts(entry)]
    users = await ctx.registry.users()
    clients = await ctx.registry.clients()
    emails = {user.user_id: user.email for user in users}
    seen_clients = {str(e["client_id"]) for e in entries if e.get("client_id")}
    seen_users = {str(e["user_id"]) for e in entries if e.get("user_id")} - set(emails)
    choices = {
        "endpoint": [(name, name) for name in sorted({str(e.get("endpoint")) for e in entries})],
        "client": [(c, c) for c in sorted({c.client_id for c in clients} | seen_clients)],
        "user": [(u.user_id, u.email) for u in users] + [(u, u) for u in sorted(seen_users)],
        "outcome": [(outcome, outcome) for outcome in OUTCOMES],
    }
    tokens = sorted(await ctx.ledger.all(), key=lambda r: (r.created_ms, r.id), reverse=True)
    lease = await ctx.leases.current()
    return DashboardView(
        now_ms=now_ms,
        offset_seconds=float(str(clock["offset_seconds"])),
        entries=matching[:DISPLAY_LIMIT],
        matching_entries=len(matching),
        total_entries=len(entries),
        filters=filters,
        choices=choices,
        tokens=tokens[:DISPLAY_LIMIT],
        total_tokens=len(tokens),
        users=users,
        clients=clients,
        faults=await ctx.store.items("faults"),
        emails=emails,
        csrf=csrf,
        refresh=refresh,
        return_to=view_query(filters, refresh),
        lease=ctx.leases.describe(lease) if lease is not None else None,
    )


async def dashboard(request: Request) -> Response:
    """The dashboard page: clock and lease, faults, journal, tokens, users and clients."""
    ctx = context(request)
    filters = read_filters(request.query_params)
    refresh = read_refresh(request.query_params.get("refresh"))
    csrf, fresh = csrf_token(request)
    view = await gather(ctx, filters, refresh, csrf)
    response = page(request, "dashboard.html", template_context(view))
    if fresh:
        response.set_cookie(
            CSRF_COOKIE,
            csrf,
            path=CSRF_COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
    return response


# ---- the buttons ----------------------------------------------------------------------------

Action = Callable[[Context, Mapping[str, str]], Awaitable[None]]


def dashboard_action(act: Action) -> Callable[[Request], Awaitable[Response]]:
    """A button: check who sent it, act through the context, go back to the page (303)."""

    async def endpoint(request: Request) -> Response:
        ctx = context(request)
        try:
            try:
                form = (await read_params(request)).values
            except OAuthError as exc:
                raise DashboardError(exc.description) from exc
            check_same_origin(request, form.get("csrf"))
            await act(ctx, form)
        except DashboardError as exc:
            return exc.response(request)
        return RedirectResponse(back_to(form.get("return_to")), status_code=303, headers=PAGE_HEADERS)

    endpoint.__name__ = act.__name__
    endpoint.__doc__ = act.__doc__
    return endpoint


@dashboard_action
async def advance_clock(ctx: Context, form: Mapping[str, str]) -> None:
    """Move the mock's clock by `seconds` (negative goes back)."""
    try:
        await ctx.clock.advance(parse_seconds(form.get("seconds")))
    except ClockRangeError as exc:
        raise DashboardError(f"seconds: {exc}.") from exc


@dashboard_action
async def clear_journal(ctx: Context, form: Mapping[str, str]) -> None:
    """Forget every journal entry."""
    await ctx.journal.clear()


def dashboard_routes() -> list[BaseRoute]:
    return [
        Route("/", dashboard, methods=["GET"]),
        Route("/__admin/ui/clock", advance_clock, methods=["POST"]),
        Route("/__admin/ui/clear-journal", clear_journal, methods=["POST"]),
    ]
