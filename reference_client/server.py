"""Serving the app: on a socket bound beforehand (so port 0 can report its port), in the
foreground (`serve`) or in a background thread (`ThreadedServer`, for tests and launchers)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

from reference_client.app import create_app
from reference_client.components import Components
from reference_client.config import Settings

T = TypeVar("T")


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one."""
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bare, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def url_for(sock: socket.socket, host: str) -> str:
    """The base URL a browser reaches the socket at (no trailing slash)."""
    port = sock.getsockname()[1]
    shown = host.strip("[]")
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(shown).is_unspecified:
            shown = "127.0.0.1"
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _uvicorn_config(app: ASGIApp, log_level: str) -> uvicorn.Config:
    # uvicorn's own access log prints query strings (a callback's code): ours (AccessLog) does not.
    return uvicorn.Config(
        app, lifespan="on", log_level=log_level, access_log=False, timeout_graceful_shutdown=3
    )


def serve(
    settings: Settings,
    sock: socket.socket,
    *,
    components: Components | None = None,
    log_level: str = "info",
) -> None:
    """Serve on `sock` until interrupted (Ctrl-C or SIGTERM). `settings` must be bound to the
    socket's URL already (`Settings.bound_to`) when REDIRECT_URI was not given."""
    app = create_app(settings, components=components)
    uvicorn.Server(_uvicorn_config(app, log_level)).run(sockets=[sock])


class ThreadedServer:
    """An ASGI app served on a loopback socket by uvicorn in a background thread.

    `with ThreadedServer(app) as server:` waits until it listens; `server.url` is where;
    `server.call(coroutine)` runs a coroutine on the server's own event loop.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        sock: socket.socket | None = None,
        host: str = "127.0.0.1",
        log_level: str = "warning",
    ) -> None:
        self.sock = sock or bind_socket(host, 0)
        self.url = url_for(self.sock, host)
        self._server = uvicorn.Server(_uvicorn_config(app, log_level))
        self._thread = threading.Thread(target=self._run, name=f"uvicorn {self.url}", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._server.serve(sockets=[self.sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc
        finally:
            loop.close()

    def start(self, timeout: float = 20.0) -> ThreadedServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the server at {self.url} stopped while starting") from self._error
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server at {self.url} did not start within {timeout} s")
            time.sleep(0.005)
        return self

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        if self._loop is None:
            raise RuntimeError("the server is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(15)
        self.sock.close()

    def __enter__(self) -> ThreadedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextlib.contextmanager
def running(
    settings: Settings, *, components: Components | None = None, host: str = "127.0.0.1"
) -> Iterator[tuple[ThreadedServer, Settings]]:
    """The reference client on a free port in a background thread, its redirect URI bound to
    that port unless the settings name one."""
    sock = bind_socket(host, 0)
    bound = settings.bound_to(url_for(sock, host))
    with ThreadedServer(create_app(bound, components=components), sock=sock, host=host) as server:
        yield server, bound
