"""Server-rendered HTML: the login page, error pages, the signed-out page. No JS framework.

The templates are in `mock_ims/templates`.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import HTMLResponse

from mock_ims.config import UserConfig
from mock_ims.http.templating import PAGE_HEADERS, page, render


def login_page(
    request: Request,
    *,
    rid: str,
    csrf: str,
    client_name: str,
    scopes: Sequence[str],
    users: Sequence[UserConfig],
    login_hint: str | None,
    error: str | None = None,
    email: str = "",
) -> HTMLResponse:
    context = {
        "rid": rid,
        "csrf": csrf,
        "client_name": client_name,
        "scopes": ", ".join(scopes) or "(no scope)",
        "users": users,
        "hint": (login_hint or "").lower(),
        "error": error,
        "email": email or (login_hint or ""),
    }
    return page(request, "login.html", context)


def error_page(message: str, status_code: int) -> HTMLResponse:
    # Rendered from the error alone (`mock_ims.http.responses.error_response`), so no request.
    html = render("error.html", {"message": message})
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def signed_out_page(request: Request, note: str | None = None) -> HTMLResponse:
    return page(request, "signed_out.html", {"note": note})
