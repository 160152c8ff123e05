"""Who may use the control plane: anyone on loopback; with `--admin-token`, only its bearer."""

from __future__ import annotations

import hmac

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

PROTECTED_PREFIXES = ("/__admin",)
PROTECTED_PATHS = frozenset({"/"})  # the dashboard


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
                    break
            if not hmac.compare_digest(presented, self.token):
                response = JSONResponse(
                    {
                        "error": "unauthorized",
                        "detail": "the admin API needs Authorization: Bearer <admin token>",
                    },
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="mock-ims admin"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
