"""The Jinja2 templates of the mock's pages (`mock_ims/templates`), with autoescape.

jinja2 is imported on first use, not with the app: it adds some 25 ms to `mock-ims serve`'s
start-up, and a run that only exchanges tokens never shows a page.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from starlette.responses import HTMLResponse

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.templating import Jinja2Templates

# The pages must not be framed (clickjacking) and need no scripts at all.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


@functools.cache
def templates() -> Jinja2Templates:
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from markupsafe import Markup
    from starlette.templating import Jinja2Templates

    def _finalize(value: object) -> object:
        # None shows as nothing, and text gets html.escape's entities (&quot;, &#x27;), the ones
        # the pages have always had; markup (a macro's output) passes as it is. Escaped here, so
        # autoescape leaves the Markup alone.
        if hasattr(value, "__html__"):
            return value
        return Markup(escape("" if value is None else str(value), quote=True))  # noqa: S704

    env = Environment(
        loader=PackageLoader("mock_ims", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=env)


def render(name: str, context: Mapping[str, Any]) -> str:
    """A template as a string, where no request is at hand."""
    return templates().get_template(name).render(context)


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """A page answering `request`, with the anti-framing headers."""
    return templates().TemplateResponse(request, name, context, status_code=status_code, headers=PAGE_HEADERS)
