"""Server-rendered HTML: the login page, error pages, the signed-out page. No JS framework."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from starlette.responses import HTMLResponse

from mock_ims.config import UserConfig

# The login page must not be framed (clickjacking) and needs no scripts at all.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f4f4f4;margin:0;color:#222}
main{max-width:30rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}
.mock{background:#fff3cd;border:1px solid #e0c060;padding:.5rem .75rem;border-radius:4px;font-size:.85rem}
.users button{display:block;width:100%;margin:.35rem 0;padding:.6rem;text-align:left;border:1px solid #ccc;border-radius:4px;background:#fafafa;cursor:pointer}
.users button.hinted{border-color:#1473e6;background:#eef5ff}
label{display:block;margin-top:.75rem;font-size:.9rem}
input{width:100%;box-sizing:border-box;padding:.5rem;margin-top:.25rem}
.actions{margin-top:1rem;display:flex;gap:.5rem}
.actions button{flex:1;padding:.6rem;border-radius:4px;border:1px solid #1473e6;cursor:pointer}
#allow{background:#1473e6;color:#fff}
#deny{background:#fff;color:#1473e6}
#error{color:#b00020;font-weight:600}
code{font-size:.85rem;background:#f0f0f0;padding:0 .2rem}
"""

MOCK_BANNER = (
    '<p class="mock">mock-ims: a <strong>test double</strong> of Adobe IMS. '
    "Nothing here is issued by Adobe; never trust these tokens in production.</p>"
)


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def login_page(
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
    hint = (login_hint or "").lower()
    buttons = "".join(
        f'<button type=submit name=user value="{escape(u.email)}" data-user="{escape(u.email)}"'
        f"{' class=hinted autofocus' if u.email.lower() == hint else ''}>"
        f"<strong>{escape(u.display_name)}</strong> &lt;{escape(u.email)}&gt;</button>"
        for u in users
    )
    error_html = f"<p id=error role=alert>{escape(error)}</p>" if error else ""
    prefill = email or (login_hint or "")
    body = f"""
<h1>Sign in with Adobe ID</h1>
{MOCK_BANNER}
<p><strong>{escape(client_name)}</strong> asks for: <code id=scopes>{escape(", ".join(scopes) or "(no scope)")}</code></p>
{error_html}
<form method=post action="/ims/login" id=login-form>
<input type=hidden name=rid value="{escape(rid)}">
<input type=hidden name=csrf value="{escape(csrf)}">
<div class=users><p>Test users (one click signs in and allows):</p>{buttons}</div>
<label for=email>Email</label><input id=email name=email type=email autocomplete=username value="{escape(prefill)}">
<label for=password>Password</label><input id=password name=password type=password autocomplete=current-password>
<div class=actions>
<button id=allow type=submit name=action value=allow>Allow</button>
<button id=deny type=submit name=action value=deny>Deny</button>
</div>
</form>"""
    return _page("Sign in - mock Adobe IMS", body)


def error_page(message: str, status_code: int) -> HTMLResponse:
    body = f"<h1>Sign-in error</h1>{MOCK_BANNER}<p id=error-message>{escape(message)}</p>"
    return _page("Error - mock Adobe IMS", body, status_code)


def signed_out_page(note: str | None = None) -> HTMLResponse:
    extra = f"<p id=note>{escape(note)}</p>" if note else ""
    return _page("Signed out - mock Adobe IMS", f"<h1>You are signed out</h1>{MOCK_BANNER}{extra}")
