"""Who may use the control plane: anyone on loopback; with `--admin-token`, only its bearer."""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

PROTECTED_PREFIXES = ("/__admin",)
PROTECTED_PATHS = frozenset({"/"})  # the dashboard
DASHBOARD_BUTTONS = "/__admin/ui/"


def _basic_password(credentials: bytes) -> bytes:
    """HTTP Basic's password: a browser sends the token so (any user name) to the dashboard."""
    try:
        return base64.b64decode(credentials.strip(), validate=True).partition(b":")[2]
    except binascii.Error:
        return b""


class AdminGuard:
    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token.encode() if token else None

    def _protected(self, path: str) -> bool:
        return path in PROTECTED_PATHS or path.startswith(PROTECTED_PREFIXES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.token is not None and self._protected(scope["path"]):
            presented = b""
            for name, value in scope["headers"]:
                if name == b"authorization":
                    scheme, _, credentials = value.partition(b" ")
                    if scheme.lower() == b"bearer":
                        presented = credentials.strip()
                    elif scheme.lower() == b"basic":
                        presented = _basic_password(credentials)
                    break
            if not hmac.compare_digest(presented, self.token):
                path = scope["path"]
                # A browser asks for the token only when challenged with Basic.
                browser = path in PROTECTED_PATHS or path.startswith(DASHBOARD_BUTTONS)
                challenge = 'Basic realm="mock-ims dashboard"' if browser else 'Bearer realm="mock-ims admin"'
                response = JSONResponse(
                    {
                        "error": "unauthorized",
                        "detail": "the admin API needs Authorization: Bearer <admin token>",
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": challenge},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
