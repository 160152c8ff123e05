"""Hostile requests only a real server sees: oversized and malformed headers, request lines and
Host headers, sent as raw bytes to `mock-ims serve` (an HTTP client library refuses to send most
of them). Each gets its exact answer, and the server keeps serving after all of them.

What answers: uvicorn itself refuses what HTTP/1.1 forbids ("Invalid HTTP request received.",
400, plain text); its parser sets no limit on header size, so the mock's `HeaderLimit` answers
431 for headers over 16 KiB or more than 100 of them; `HostGuard` answers wrong Host headers.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers.processes import RunningProcess, mock_ims_process

UVICORN_400 = (400, "text/plain; charset=utf-8", "Invalid HTTP request received.")
TOO_LARGE = (
    431,
    "application/json",
    '{"error":"invalid_request","error_description":"the request headers are larger than 16384 bytes or more than 100"}',
)
HOST = b"Host: 127.0.0.1\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    with mock_ims_process(data_dir=Path(tmp_path_factory.mktemp("limits"))) as running:
        yield running


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def exchange(server: RunningProcess, raw: bytes) -> Answer:
    """Send raw bytes on a fresh connection; read the answer until the server closes it."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split(" ")[1]), headers, body)


def get(path: bytes, *header_lines: bytes) -> bytes:
    return b"GET " + path + b" HTTP/1.1\r\n" + b"".join(header_lines) + b"Connection: close\r\n\r\n"


CASES: dict[str, tuple[bytes, tuple[int, str, str]]] = {
    "a header over 16 KiB": (get(b"/ims/keys", HOST, b"X-Padding: " + b"a" * 17_000 + b"\r\n"), TOO_LARGE),
    "a header of 2 MiB": (get(b"/ims/keys", HOST, b"X-Padding: " + b"a" * 2_000_000 + b"\r\n"), TOO_LARGE),
    "a 17 KiB bearer token": (
        get(b"/ims/userinfo/v2", HOST, b"Authorization: Bearer " + b"a" * 17_000 + b"\r\n"),
        TOO_LARGE,
    ),
    "101 headers": (get(b"/ims/keys", HOST, *(b"X-H%d: v\r\n" % i for i in range(101))), TOO_LARGE),
    "a 16 KiB cookie at authorize": (
        get(b"/ims/authorize/v2?client_id=mock-partner-app", HOST, b"Cookie: a=" + b"c" * 16_500 + b"\r\n"),
        TOO_LARGE,
    ),
    "a request line of 200 KB": (get(b"/ims/keys?" + b"a" * 200_000, HOST), UVICORN_400),
    "a CR inside a header value": (get(b"/ims/keys", HOST, b"X-A: a\rb\r\n"), UVICORN_400),
    "a NUL inside a header value": (get(b"/ims/keys", HOST, b"X-A: a\x00b\r\n"), UVICORN_400),
    "a folded header (obs-fold)": (get(b"/ims/keys", HOST, b"X-A: a\r\n b\r\n"), UVICORN_400),
    "a space in a header name": (get(b"/ims/keys", HOST, b"X A: a\r\n"), UVICORN_400),
    "an encoded CRLF in the request target": (
        get(b"/ims/keys?x=%0D%0ASet-Cookie:%20a=1", HOST),
        (
            400,
            "application/json",
            '{"error":"invalid_request","error_description":"parameter x contains a control character"}',
        ),
    ),
    "two Host headers": (
        get(b"/ims/keys", HOST, b"Host: evil.example\r\n"),
        (
            400,
            "application/json",
            '{"error":"bad_request","detail":"more than one Host header (RFC 9112 §3.2)"}',
        ),
    ),
    "a foreign Host (DNS rebinding)": (
        get(b"/ims/keys", b"Host: evil.example\r\n"),
        (
            421,
            "application/json",
            '{"error":"misdirected_request","detail":"this mock does not serve host \'evil.example\'"}',
        ),
    ),
    "a foreign Host with a loopback port": (
        get(b"/__admin/journal", b"Host: attacker.example:8765\r\n"),
        (
            421,
            "application/json",
            '{"error":"misdirected_request","detail":"this mock does not serve host \'attacker.example\'"}',
        ),
    ),
    "a Content-Length and chunked body together": (
        b"POST /ims/token/v3 HTTP/1.1\r\n" + HOST + b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n0\r\n\r\n",
        UVICORN_400,
    ),
}


@pytest.mark.parametrize("raw,expected", CASES.values(), ids=CASES.keys())
def test_a_hostile_request_gets_its_exact_answer(
    server: RunningProcess, raw: bytes, expected: tuple[int, str, str]
) -> None:
    status, media_type, body = expected
    answer = exchange(server, raw)
    assert (answer.status, answer.headers["content-type"]) == (status, media_type)
    assert answer.body.decode() == body


def test_headers_just_under_the_limit_reach_the_endpoint(server: RunningProcess) -> None:
    bearer = b"Authorization: Bearer " + b"a" * 15_000 + b"\r\n"
    answer = exchange(server, get(b"/ims/userinfo/v2", HOST, bearer))
    assert answer.status == 401
    assert json.loads(answer.body)["error_description"] == "access token malformed or not signed by this mock"


def test_bytes_that_are_not_utf8_in_a_header_are_read_as_latin1_and_refused_as_an_unknown_key(
    server: RunningProcess,
) -> None:
    answer = exchange(server, get(b"/v2/health", HOST, b"X-API-Key: \xff\xfe\r\n"))
    assert answer.status == 403
    assert answer.body == b'while (1) {}\n{"code":"403003","description":"Api Key is invalid"}'


def test_the_server_still_serves_after_every_hostile_request(server: RunningProcess) -> None:
    for raw, _ in CASES.values():
        exchange(server, raw)
    assert httpx.get(f"{server.url}/ims/keys").status_code == 200
    assert server.process.poll() is None
    assert "Traceback" not in server.text()
