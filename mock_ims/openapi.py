"""`/openapi.json`: the OpenAPI 3.1 description of every endpoint of the mock."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_ims.version import __version__


def document(base_url: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "mock-ims", "version": __version__},
        "servers": [{"url": base_url}],
        "paths": {},
    }


async def openapi(request: Request) -> Response:
    base = request.app.state.ims.base_url(request)
    return JSONResponse(document(base))
