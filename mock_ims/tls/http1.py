"""One HTTP/1.1 connection served into an ASGI app, with h11 doing the parsing.

The intercepting proxy uses it for the requests it decrypts and for plain requests in absolute
form. Heads are bounded by `MAX_HEAD`, bodies by `MAX_BODY`; keep-alive follows RFC 9112 §9.3
(h11 decides when the connection must close).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

import h11
from starlette.types import ASGIApp, Message

logger = logging.getLogger("mock_ims.tls.proxy")

MAX_HEAD = 16 * 1024
MAX_BODY = 10 * 1024 * 1024
READ_SIZE = 64 * 1024
Headers = list[tuple[bytes, bytes]]


class BodyTooLarge(Exception):
    """The request body passed `MAX_BODY`."""


class Http1Connection:
    """The server side of one HTTP/1.1 connection: read requests, write responses."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)

    async def _event(self) -> Any:
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                if "buffer too long" in str(exc):  # h11's words for a head over MAX_HEAD
                    raise h11.RemoteProtocolError(
                        f"the request head is over {MAX_HEAD} bytes", error_status_hint=431
                    ) from exc
                raise
            if event is not h11.NEED_DATA:
                return event
            if self.h11.they_are_waiting_for_100_continue:
                await self.send(h11.InformationalResponse(status_code=100, headers=[]))
            self.h11.receive_data(await self.reader.read(READ_SIZE))

    async def next_request(self) -> h11.Request | None:
        """The next request's head, or None once the client has closed the connection."""
        event = await self._event()
        if isinstance(event, h11.Request):
            # h11 bounds only a head still arriving; one that came whole in a read is checked here.
            size = len(event.target) + sum(len(name) + len(value) + 4 for name, value in event.headers)
            if size > MAX_HEAD:
                raise h11.RemoteProtocolError(
                    f"the request head is over {MAX_HEAD} bytes", error_status_hint=431
                )
            return event
        return None  # ConnectionClosed (or PAUSED, which a server never sees before a request)

    async def read_body(self) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await self._event()
            if isinstance(event, h11.Data):
                size += len(event.data)
                if size > MAX_BODY:
                    raise BodyTooLarge
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                return b"".join(chunks)
            else:  # ConnectionClosed in the middle of a body
                raise ConnectionResetError("the client closed the connection during the request body")

    async def send(self, event: Any) -> None:
        data = self.h11.send(event)
        if data:
            self.writer.write(data)
            await self.writer.drain()

    async def respond(
        self, status: int, body: bytes, *, content_type: str, headers: Sequence[tuple[str, str]] = ()
    ) -> None:
        """A whole response; the connection closes after it if the request was not fully read."""
        if self.h11.our_state is not h11.SEND_RESPONSE:
            return
        all_headers = [
            ("content-type", content_type),
            ("content-length", str(len(body))),
            ("cache-control", "no-store"),
            *headers,
        ]
        if self.h11.their_state is not h11.DONE:
            all_headers.append(("connection", "close"))
        await self.send(h11.Response(status_code=status, headers=all_headers))
        if body:
            await self.send(h11.Data(data=body))
        await self.send(h11.EndOfMessage())

    async def respond_json(self, status: int, document: dict[str, Any]) -> None:
        await self.respond(status, json.dumps(document).encode(), content_type="application/json")

    async def fail(self, status: int, message: str) -> None:
        """Answer a request h11 could not parse (when nothing has been sent yet); the caller closes."""
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = json.dumps({"error": "bad_request", "detail": message}).encode()
        # Written by hand: h11 will not frame a response once the peer has broken the protocol.
        head = (
            f"HTTP/1.1 {status} {_reason(status)}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()

    def next_cycle(self) -> bool:
        """Ready the connection for another request (keep-alive); False when it must close."""
        if self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
            return True
        return False

    @property
    def unread(self) -> bytes:
        """Bytes the client sent after the current request (e.g. early TLS after CONNECT)."""
        data, _closed = self.h11.trailing_data
        return bytes(data)


def _reason(status: int) -> str:
    return {400: "Bad Request", 413: "Content Too Large", 431: "Request Header Fields Too Large"}.get(
        status, "Error"
    )


async def serve_asgi(
    http: Http1Connection,
    request: h11.Request,
    app: ASGIApp,
    *,
    scheme: str,
    host: str,
    port: int,
    path: bytes,
    client: tuple[str, int] | None,
) -> None:
    """Run one request through `app`, as the server at `scheme://host:port` would receive it.

    The Host header is set to `host` (the name the client asked for), whatever was sent.
    """
    try:
        body = await http.read_body()
    except BodyTooLarge:
        await http.respond_json(413, {"error": "request_too_large", "detail": f"over {MAX_BODY} bytes"})
        return
    raw_path, _, query = path.partition(b"?")
    default_port = 443 if scheme == "https" else 80
    authority = host if port == default_port else f"{host}:{port}"
    headers: Headers = [(b"host", authority.encode())]
    headers += [(name.lower(), value) for name, value in request.headers if name.lower() != b"host"]
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": request.http_version.decode(),
        "method": request.method.decode(),
        "scheme": scheme,
        "path": unquote_to_bytes(raw_path).decode("utf-8", errors="replace"),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": client,
        "server": (host, port),
        "extensions": {},
    }
    head_only = request.method == b"HEAD"
    finished = asyncio.Event()
    body_given = False
    started = False

    async def receive() -> Message:
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": body, "more_body": False}
        await finished.wait()  # no disconnect while the response is still being written
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start":
            started = True
            await http.send(h11.Response(status_code=message["status"], headers=message.get("headers", [])))
        elif message["type"] == "http.response.body":
            data = message.get("body", b"")
            if data and not head_only:
                await http.send(h11.Data(data=data))
            if not message.get("more_body", False):
                await http.send(h11.EndOfMessage())

    try:
        await app(scope, receive, send)
    except (ConnectionError, h11.LocalProtocolError):
        raise
    except Exception:
        logger.exception(
            "unexpected error serving %s %s://%s%s", scope["method"], scheme, host, scope["path"]
        )
        if started:
            raise
        await http.respond_json(
            500,
            {"error": "server_error", "error_description": "the mock hit an unexpected error; see its log"},
        )
    finally:
        finished.set()
