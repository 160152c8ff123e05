"""What every admin endpoint shares: JSON bodies and the error they answer with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse

from mock_ims.protocol.bodies import BodyError, parse

MAX_ADMIN_BODY = 256 * 1024
M = TypeVar("M", bound=BaseModel)


class AdminError(Exception):
    """A bad admin request; answered as `{"error": ..., "detail": ..., **fields}` with its status."""

    def __init__(
        self,
        detail: str,
        status_code: int = 400,
        error: str = "bad_request",
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status_code = status_code
        self.error = error
        self.fields = dict(fields or {})


def admin_error_response(exc: AdminError) -> JSONResponse:
    return JSONResponse({**exc.fields, "error": exc.error, "detail": exc.detail}, status_code=exc.status_code)


def int_param(value: str | None, name: str, *, default: int | None) -> Any:
    if value is None or value == "":
        return default
    # str.isdigit() is also true for '²' and other digits int() refuses or reads differently.
    if not (value.isascii() and value.isdigit()) or len(value) > 15:
        raise AdminError(f"{name}: must be a non-negative whole number")
    return int(value)


async def json_body(request: Request, *, required: bool = False) -> dict[str, Any]:
    """The request's JSON object body (an empty body is `{}`, unless one is `required`)."""
    too_large = AdminError(f"the body is larger than {MAX_ADMIN_BODY} bytes", 413)
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_ADMIN_BODY:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # stop reading at the limit, not after the whole body
        size += len(chunk)
        if size > MAX_ADMIN_BODY:
            raise too_large
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:  # whitespace alone is no JSON document: a 400 below
        if required:
            raise AdminError("a JSON object body is required")
        return {}
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AdminError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AdminError("the body must be a JSON object")
    return data


def checked(model: type[M], data: Mapping[str, Any]) -> M:
    """`data` as its model, or a 400 naming the key at fault."""
    try:
        return parse(model, data)
    except BodyError as exc:
        raise AdminError(str(exc)) from exc


async def body_as(request: Request, model: type[M], *, required: bool = False) -> M:
    """The request's JSON object body as its model."""
    return checked(model, await json_body(request, required=required))
