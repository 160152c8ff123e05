"""Reading a `multipart/form-data` body (RFC 7578) of plain fields, strictly.

Starlette's form parser decodes a field that is not UTF-8 as Latin-1, reads a body without its
closing boundary as if it were complete, and names no field when it refuses a file. OAuth
parameters need none of that leniency, so this reader keeps the raw bytes of every part and
decides itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from mock_ims.protocol.errors import InvalidRequestError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)


class _Collector:
    """The parser's callbacks: every part's headers and bytes, and whether the body ended."""

    def __init__(self, max_parts: int) -> None:
        self.max_parts = max_parts
        self.parts: list[_Part] = []
        self.ended = False
        self._name = b""
        self._value = b""

    def on_part_begin(self) -> None:
        if len(self.parts) >= self.max_parts:
            raise InvalidRequestError(f"the multipart body has more than {self.max_parts} parts")
        self.parts.append(_Part())

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.parts[-1].headers[self._name.strip().lower()] = self._value.strip()
        self._name = self._value = b""

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.parts[-1].data += data[start:end]

    def on_end(self) -> None:
        self.ended = True


def _decode(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"{what} is not valid UTF-8") from exc


def parse_multipart(body: bytes, content_type: str, *, max_parts: int) -> list[tuple[str, str]]:
    """The (name, value) fields of a multipart body (already size-limited by the caller);
    `InvalidRequestError` names what is wrong."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidRequestError("malformed multipart body: the Content-Type has no boundary")
    collector = _Collector(max_parts)
    callbacks: MultipartCallbacks = {
        "on_part_begin": collector.on_part_begin,
        "on_header_field": collector.on_header_field,
        "on_header_value": collector.on_header_value,
        "on_header_end": collector.on_header_end,
        "on_part_data": collector.on_part_data,
        "on_end": collector.on_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, ValueError) as exc:
        raise InvalidRequestError(f"malformed multipart body: {exc}") from exc
    if not collector.ended:
        raise InvalidRequestError("malformed multipart body: it ends before its closing boundary")
    fields = []
    for part in collector.parts:
        disposition, params = parse_options_header(part.headers.get(b"content-disposition", b""))
        if disposition != b"form-data" or b"name" not in params:
            raise InvalidRequestError(
                'malformed multipart body: a part has no Content-Disposition "form-data; name=..."'
            )
        name = _decode(params[b"name"], "a multipart field name")
        if b"filename" in params:
            raise InvalidRequestError(f"parameter {name} is a file upload; send a plain field")
        fields.append((name, _decode(bytes(part.data), f"parameter {name}")))
    return fields
