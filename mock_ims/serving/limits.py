"""`HeaderLimit`: refuse requests whose headers are too large, before any endpoint reads them.

uvicorn's default HTTP parser (httptools) sets no limit on header size or count, so a request
with megabytes of headers would reach the endpoints. The mock answers such a request with 431
(RFC 6585 §5) instead; the limits are far above what any OAuth client or browser sends.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_HEADER_BYTES = 16 * 1024  # names and values, all headers together
MAX_HEADER_COUNT = 100


class HeaderLimit:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(name) + len(value) for name, value in headers)
            if size > MAX_HEADER_BYTES or len(headers) > MAX_HEADER_COUNT:
                response = JSONResponse(
                    {
                        "error": "invalid_request",
                        "error_description": (
                            f"the request headers are larger than {MAX_HEADER_BYTES} bytes "
                            f"or more than {MAX_HEADER_COUNT}"
                        ),
                    },
                    status_code=431,
                    headers={"Connection": "close"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
