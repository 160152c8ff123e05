"""The intercepting proxy: IMS's and Lightroom's real hostnames, answered by the mock.

A partner app started with `HTTPS_PROXY` pointing here and the local CA trusted talks to
`https://ims-na1.adobelogin.com` and `https://lr.adobe.io` unchanged. The proxy answers
`CONNECT` for those hosts only, terminates TLS with a certificate the local CA minted for the
host, and hands each decrypted request to the mock's ASGI app in this process, with the real
hostname as Host, so the issuer and every URL the mock emits are the real ones. Plain requests
in absolute form (`POST https://ims-na1.adobelogin.com/ims/token/v3 HTTP/1.1`) are served too.

It never forwards: it opens no outbound connection and resolves no name. Any other host is
refused with 403 and journalled (endpoint `proxy`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import h11
from starlette.types import ASGIApp

from mock_ims.state.context import Context
from mock_ims.state.journal import Event, kept_headers
from mock_ims.tls.ca import LocalCA
from mock_ims.tls.http1 import Http1Connection, serve_asgi
from mock_ims.tls.interception import Interception

logger = logging.getLogger("mock_ims.tls.proxy")

Serves = Literal["ims", "lightroom"]
DEFAULT_HOSTS: Mapping[str, Serves] = {
    "ims-na1.adobelogin.com": "ims",
    "ims-na1-stg1.adobelogin.com": "ims",
    "lr.adobe.io": "lightroom",
}
# What each kind of host answers; anything else is 404, as the real host would answer it.
PATHS: Mapping[Serves, tuple[str, ...]] = {
    "ims": ("/ims/", "/.well-known/"),
    "lightroom": ("/v2/",),
}
TLS_HANDSHAKE_TIMEOUT = 10.0
LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024
CONNECT_ESTABLISHED = b"HTTP/1.1 200 Connection Established\r\n\r\n"


def parse_hosts(specs: list[str]) -> dict[str, Serves]:
    """`host` (an IMS host) or `host=lightroom` / `host=ims`, as given to `--intercept`."""
    hosts: dict[str, Serves] = {}
    for spec in specs:
        name, _, kind = spec.partition("=")
        name = name.strip().lower().rstrip(".")
        kind = kind.strip() or "ims"
        if not name or "/" in name or ":" in name or " " in name:
            raise ValueError(f"--intercept {spec!r}: give a hostname, like lr.adobe.io=lightroom")
        if kind == "ims":
            hosts[name] = "ims"
        elif kind == "lightroom":
            hosts[name] = "lightroom"
        else:
            raise ValueError(f"--intercept {spec!r}: the kind must be 'ims' or 'lightroom', not {kind!r}")
    return hosts


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: bytes


class Refused(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


class InterceptingProxy:
    """Serve `hosts` from `app` (the mock, without its loopback Host guard), through `ca`."""

    def __init__(
        self, app: ASGIApp, context: Context, ca: LocalCA, hosts: Mapping[str, Serves] = DEFAULT_HOSTS
    ) -> None:
        if not hosts:
            raise ValueError("hosts: the proxy needs at least one host to intercept")
        self.app = app
        self.context = context
        self.ca = ca
        self.hosts = {name.lower(): kind for name, kind in hosts.items()}
        self._tls: dict[str, ssl.SSLContext] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
    ) -> None:
        if sock is not None:
            self._server = await asyncio.start_server(self._connection, sock=sock)
        else:
            self._server = await asyncio.start_server(self._connection, host, port)

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the proxy is not started")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def interception(self) -> Interception:
        return Interception(self.url, self.ca.cert_path, self.ca.spki_sha256(), tuple(self.hosts))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    # ---- one client connection ----------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        peer = writer.get_extra_info("peername")
        client = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else None
        http = Http1Connection(reader, writer)
        try:
            while True:
                request = await http.next_request()
                if request is None:
                    return
                if request.method == b"CONNECT":
                    await self._tunnel(http, request, client)
                    return
                await self._plain(http, request, client)
                if not http.next_cycle():
                    return
        except h11.RemoteProtocolError as exc:
            await _quietly(http.fail(exc.error_status_hint, str(exc)))
            await _quietly(_linger(reader, writer))
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
                await writer.wait_closed()

    async def _plain(
        self, http: Http1Connection, request: h11.Request, client: tuple[str, int] | None
    ) -> None:
        """A request in absolute form (RFC 9112 §3.2.2), as clients send to an http:// proxy."""
        try:
            target = self._absolute_target(request)
            self._check_path(target)
        except Refused as exc:
            await self._refuse(http, request, exc)
            return
        await serve_asgi(
            http,
            request,
            self.app,
            scheme=target.scheme,
            host=target.host,
            port=target.port,
            path=target.path,
            client=client,
        )

    async def _tunnel(
        self, http: Http1Connection, request: h11.Request, client: tuple[str, int] | None
    ) -> None:
        """CONNECT (RFC 9110 §9.3.6): answer 200, then be the host ourselves behind its TLS."""
        try:
            host = self._connect_target(request)
            if http.unread:
                raise Refused(400, "early_data", "send the TLS handshake after the proxy's 200 answer")
        except Refused as exc:
            await self._refuse(http, request, exc)
            return
        http.writer.write(CONNECT_ESTABLISHED)
        await http.writer.drain()
        try:
            await http.writer.start_tls(self._tls_context(host), ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT)
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            await self._journal_refusal(
                request,
                f"{host}:443",
                "tls_handshake_failed",
                f"the client gave up the TLS handshake for {host} ({_short(exc)}): it does not trust "
                f"the local CA; give it {self.ca.cert_path} (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, ...)",
                status=0,
            )
            raise
        inner = Http1Connection(http.reader, http.writer)
        while True:
            inner_request = await inner.next_request()
            if inner_request is None:
                return
            target = Target("https", host, 443, _origin_path(inner_request.target))
            try:
                self._check_path(target)
            except Refused as exc:
                await self._refuse(inner, inner_request, exc, journal=False)
            else:
                await serve_asgi(
                    inner,
                    inner_request,
                    self.app,
                    scheme="https",
                    host=host,
                    port=443,
                    path=target.path,
                    client=client,
                )
            if not inner.next_cycle():
                return

    # ---- decisions -------------------------------------------------------------------------

    def _refused_host(self, host: str) -> Refused:
        return Refused(
            403,
            "host_not_intercepted",
            f"mock-ims's proxy serves only {', '.join(sorted(self.hosts))} and never forwards "
            f"anywhere else; {host!r} was refused",
        )

    def _connect_target(self, request: h11.Request) -> str:
        authority = request.target.decode("ascii", errors="replace")
        host, _, port = authority.rpartition(":")
        host = host.strip("[]").lower().rstrip(".")
        if not host or not (port.isascii() and port.isdigit()):
            raise Refused(400, "bad_connect", f"CONNECT needs host:port, not {authority!r}")
        if host not in self.hosts:
            raise self._refused_host(host)
        if int(port) != 443:
            raise Refused(403, "port_not_intercepted", f"only port 443 of {host} is served, not {port}")
        return host

    def _absolute_target(self, request: h11.Request) -> Target:
        raw = request.target.decode("ascii", errors="replace")
        if raw.startswith("/"):
            raise Refused(
                400,
                "not_a_proxy_request",
                "this is mock-ims's intercepting proxy: send requests in absolute form "
                "(GET https://ims-na1.adobelogin.com/...) or CONNECT, or use the mock's own URL",
            )
        parts = urlsplit(raw)
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme not in ("http", "https") or not host:
            raise Refused(400, "bad_target", f"cannot read the request target {raw[:200]!r}")
        if host not in self.hosts:
            raise self._refused_host(host)
        default_port = 443 if parts.scheme == "https" else 80
        try:
            port = parts.port or default_port
        except ValueError:
            raise Refused(400, "bad_target", f"bad port in {raw[:200]!r}") from None
        if port != default_port:
            raise Refused(403, "port_not_intercepted", f"only the default port of {host} is served")
        path = parts.path or "/"
        return Target(parts.scheme, host, port, (path + (f"?{parts.query}" if parts.query else "")).encode())

    def _check_path(self, target: Target) -> None:
        kind = self.hosts[target.host]
        path = target.path.split(b"?", 1)[0].decode("utf-8", errors="replace")
        if not path.startswith(PATHS[kind]):
            raise Refused(404, "not_found", f"{target.host} ({kind}) has no {path!r} in this mock")

    def _tls_context(self, host: str) -> ssl.SSLContext:
        tls = self._tls.get(host)
        if tls is None:
            files = self.ca.leaf_files((host,))
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.minimum_version = ssl.TLSVersion.TLSv1_2
            tls.load_cert_chain(files.cert, files.key)
            tls.set_alpn_protocols(["http/1.1"])  # no HTTP/2: the bridge speaks HTTP/1.1
            self._tls[host] = tls
        return tls

    # ---- refusals --------------------------------------------------------------------------

    async def _refuse(
        self, http: Http1Connection, request: h11.Request, refusal: Refused, *, journal: bool = True
    ) -> None:
        if journal:
            await self._journal_refusal(
                request,
                request.target.decode("ascii", errors="replace"),
                refusal.error,
                refusal.detail,
                refusal.status,
            )
        with contextlib.suppress(h11.RemoteProtocolError, h11.LocalProtocolError):
            if request.method != b"CONNECT":
                await http.read_body()
        await http.respond_json(
            refusal.status,
            {"error": refusal.error, "detail": refusal.detail, "intercepted_hosts": sorted(self.hosts)},
        )

    async def _journal_refusal(
        self, request: h11.Request, target: str, error: str, reason: str, status: int
    ) -> None:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.headers}
        event = Event(
            endpoint="proxy",
            method=request.method.decode("ascii", errors="replace"),
            path=target[:512],
            headers=kept_headers(headers),
            status=status,
        )
        event.refuse(error, reason)
        try:
            await self.context.journal.record(event, await self.context.now_ms())
        except Exception:  # the refusal is answered even if the journal cannot take it
            logger.exception("cannot journal the proxy's refusal of %s", target)


def _origin_path(target: bytes) -> bytes:
    if target.startswith(b"/"):
        return target
    parts = urlsplit(target.decode("ascii", errors="replace"))  # absolute form inside the tunnel
    return ((parts.path or "/") + (f"?{parts.query}" if parts.query else "")).encode()


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).splitlines()[0][:200]


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read what the client is still sending before closing, so it sees the error answer
    instead of a reset (RFC 9112 §9.6)."""
    if writer.can_write_eof():
        writer.write_eof()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(LINGER_SECONDS):
            drained = 0
            while drained < LINGER_BYTES and (chunk := await reader.read(65536)):
                drained += len(chunk)


async def _quietly(action: Awaitable[None]) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
        await action
