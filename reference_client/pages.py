"""Server-rendered HTML: home, profile, error and notice pages. No scripts at all.

Every value from IMS or Lightroom is escaped. No page ever holds a token or the client secret;
the only secret-like value in a page is the session's CSRF token in the sign-out form.
Element ids are stable, for tests and the conformance suite.
"""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.responses import HTMLResponse

from reference_client.errors import PageError

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # The callback URL carries a code: never let it travel on as a Referer.
    "Referrer-Policy": "no-referrer",
}

NOTICES = {
    "signed-out": "You are signed out, and your Adobe tokens were revoked.",
    "signed-out-unrevoked": (
        "You are signed out here. Adobe could not be reached to revoke your tokens; "
        "they were deleted from this app and expire on their own."
    ),
    "session-ended": "Your Adobe sign-in has ended. Please sign in again.",
}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f5f5f5;margin:0;color:#222}
main{max-width:36rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}
dt{font-weight:600}
.note{background:#fff3cd;border:1px solid #e0c060;padding:.5rem .75rem;border-radius:4px}
.error{color:#b00020}
a.button,button{display:inline-block;padding:.6rem 1rem;border-radius:4px;border:1px solid #1473e6;
background:#1473e6;color:#fff;text-decoration:none;font-size:1rem;cursor:pointer}
"""


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def home(*, signed_in: bool, notice: str | None) -> HTMLResponse:
    notice_html = f"<p id=notice class=note>{escape(NOTICES[notice])}</p>" if notice in NOTICES else ""
    if signed_in:
        action = '<p><a id=profile-link class=button href="/profile">Your profile</a></p>'
    else:
        action = '<p><a id=sign-in class=button href="/login">Sign in with Adobe</a></p>'
    body = (
        "<h1>Lightroom partner reference app</h1>"
        f"{notice_html}"
        "<p>This app signs you in with your Adobe ID and shows your Adobe and Lightroom account.</p>"
        f"{action}"
    )
    return page("Lightroom partner reference app", body)


def _text(doc: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = doc.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _lightroom_section(account: dict[str, Any] | None, note: str | None) -> str:
    if account is None:
        return f"<h2>Lightroom</h2><p id=lightroom-unavailable class=note>{escape(note or 'Lightroom is unavailable.')}</p>"
    entitlement = account.get("entitlement")
    status = _text(entitlement, "status") if isinstance(entitlement, dict) else None
    rows = [
        ("lr-name", "Name", _text(account, "full_name")),
        ("lr-email", "Email", _text(account, "email")),
        ("lr-entitlement", "Entitlement", status),
        ("lr-country", "Country", _text(account, "country")),
    ]
    items = "".join(
        f"<dt>{escape(label)}</dt><dd id={element_id}>{escape(value or 'unknown')}</dd>"
        for element_id, label, value in rows
    )
    return f"<h2>Lightroom</h2><dl id=lightroom-account>{items}</dl>"


def profile(
    *,
    ims_profile: dict[str, Any],
    lightroom_account: dict[str, Any] | None,
    lightroom_note: str | None,
    csrf_token: str,
) -> HTMLResponse:
    name = _text(ims_profile, "displayName", "name") or "(no name)"
    email = _text(ims_profile, "email") or "(no email)"
    body = (
        "<h1>Your profile</h1>"
        "<dl id=ims-profile>"
        f"<dt>Name</dt><dd id=display-name>{escape(name)}</dd>"
        f"<dt>Email</dt><dd id=email>{escape(email)}</dd>"
        "</dl>"
        f"{_lightroom_section(lightroom_account, lightroom_note)}"
        '<form method=post action="/logout" id=logout-form>'
        f'<input type=hidden name=csrf_token value="{escape(csrf_token)}">'
        "<button id=sign-out type=submit>Sign out</button></form>"
    )
    return page("Your profile", body)


def error(exc: PageError) -> HTMLResponse:
    body = (
        f"<h1 id=error-title>{escape(exc.title)}</h1>"
        f'<p id=error-message class=error data-error-code="{escape(exc.code)}">{escape(exc.message)}</p>'
        '<p><a id=home-link href="/">Back to the start page</a></p>'
    )
    return page(exc.title, body, exc.status_code)


def unexpected() -> HTMLResponse:
    body = (
        "<h1 id=error-title>Something went wrong</h1>"
        '<p id=error-message class=error data-error-code="internal">'
        "The app hit an unexpected problem. It has been logged; please try again.</p>"
        '<p><a id=home-link href="/">Back to the start page</a></p>'
    )
    return page("Something went wrong", body, 500)
