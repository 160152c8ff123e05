"""Reading OAuth parameters from a request, strictly.

IMS accepts parameters in the query string, a urlencoded body or a multipart body, and client
credentials by HTTP Basic or as parameters (docs/ims-facts.md §3). RFC 6749 §3.1 and §3.2 say a
parameter must not appear twice. Anything malformed becomes an `invalid_request` that names the
parameter, never a 500.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request

from mock_ims.http.multipart import parse_multipart
from mock_ims.protocol.errors import InvalidClientError, InvalidRequestError

MAX_BODY_BYTES = 64 * 1024
MAX_VALUE_LENGTH = 8192
MAX_FIELDS = 64
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


@dataclass
class Params:
    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # name -> "query" | "body"
    basic: tuple[str, str] | None = None
    bearer: str | None = None

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def require(self, name: str) -> str:
        value = self.values.get(name)
        if not value:
            raise InvalidRequestError(f"missing required parameter: {name}")
        return value

    def in_query(self, name: str) -> bool:
        return self.sources.get(name) == "query"


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_value(name: str, value: str) -> None:
    """Refuse a parameter (or header) value the mock will not read: too long, or with a
    control character."""
    if len(name) > 128:
        raise InvalidRequestError("a parameter name is longer than 128 characters")
    if len(value) > MAX_VALUE_LENGTH:
        raise InvalidRequestError(f"parameter {name} is longer than {MAX_VALUE_LENGTH} characters")
    if _CONTROL.search(value) or _CONTROL.search(name):
        raise InvalidRequestError(f"parameter {name or '(empty name)'} contains a control character")


def parse_urlencoded(raw: bytes, where: str) -> list[tuple[str, str]]:
    """Decode `a=1&b=2` strictly: UTF-8 only, at most MAX_FIELDS fields."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"the {where} is not valid UTF-8") from exc
    except ValueError as exc:
        raise InvalidRequestError(f"the {where} has more than {MAX_FIELDS} parameters") from exc
    for name, value in pairs:
        check_value(name, value)
    return pairs


def _add(params: Params, pairs: list[tuple[str, str]], source: str) -> None:
    seen: set[str] = set()
    for name, value in pairs:
        if name in seen:
            raise InvalidRequestError(f"parameter {name} is repeated (RFC 6749 §3.1)")
        seen.add(name)
        if name in params.values and params.values[name] != value:
            raise InvalidRequestError(f"parameter {name} differs between the query string and the body")
        params.values.setdefault(name, value)
        params.sources.setdefault(name, source)


def header_map(request: Request) -> dict[str, str]:
    """The request's headers by (lower-case) name, the first of any repeated one, as
    Starlette's `request.headers.get` reads them; one pass instead of one per lookup."""
    headers: dict[str, str] = {}
    for name, value in request.scope["headers"]:
        key = name.decode("latin-1")
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


async def _read_body(request: Request, headers: Mapping[str, str]) -> bytes:
    declared = headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):  # not "²", which int() refuses
            raise InvalidRequestError("malformed Content-Length header")
        if int(declared) > MAX_BODY_BYTES:
            raise InvalidRequestError(f"the body is larger than {MAX_BODY_BYTES} bytes", status_code=413)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InvalidRequestError(f"the body is larger than {MAX_BODY_BYTES} bytes", status_code=413)
        chunks.append(chunk)
    return b"".join(chunks)


async def _body_pairs(request: Request, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    body = await _read_body(request, headers)
    if not body:
        return []
    content_type = headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == FORM:
        return parse_urlencoded(body, "request body")
    if media_type == MULTIPART:
        pairs = parse_multipart(body, content_type, max_parts=MAX_FIELDS)
        for name, value in pairs:
            check_value(name, value)
        return pairs
    shown = media_type or "no Content-Type"
    raise InvalidRequestError(f"unsupported Content-Type ({shown}); send {FORM} or {MULTIPART}")


def _authorization(params: Params, header: str | None) -> None:
    if not header:
        return
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except ValueError as exc:  # binascii.Error, non-ASCII characters, invalid UTF-8
            raise InvalidClientError("malformed HTTP Basic credentials") from exc
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise InvalidClientError("malformed HTTP Basic credentials: no ':' separator")
        # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
        params.basic = (unquote_plus(client_id), unquote_plus(secret))
    elif scheme.lower() == "bearer" and credentials:
        # However long, it is a token to refuse as malformed (RFC 6750 §3.1), not a missing one.
        params.bearer = credentials


async def read_params(request: Request, headers: Mapping[str, str] | None = None) -> Params:
    """Query parameters, plus body parameters for methods that carry a body."""
    if headers is None:
        headers = header_map(request)
    params = Params()
    query = request.scope.get("query_string", b"")
    if query:
        _add(params, parse_urlencoded(query, "query string"), "query")
    if request.method in ("POST", "PUT", "PATCH"):
        _add(params, await _body_pairs(request, headers), "body")
    _authorization(params, headers.get("authorization"))
    return params
