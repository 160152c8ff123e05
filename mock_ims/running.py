"""`MockIMS`: a mock IMS in this process, for tests; `MockIMS.running()` serves it on a socket."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from mock_ims.client import ImsClient
from mock_ims.config import ClientConfig, MockConfig, load_config
from mock_ims.serving.app import create_app, guarded
from mock_ims.serving.server import bind_socket, url_for
from mock_ims.state.context import Context, Settings
from mock_ims.tls.ca import LocalCA
from mock_ims.tls.interception import Interception
from mock_ims.tls.proxy import DEFAULT_HOSTS, InterceptingProxy, Serves


def _as_config(config: MockConfig | str | Path | None) -> MockConfig:
    if isinstance(config, MockConfig):
        return config
    return load_config(config)


class MockIMS(ImsClient):
    """A mock IMS owned by this process.

    `ims.app` is its ASGI app, for `httpx.ASGITransport` (no socket). `MockIMS.running()` also
    serves it on loopback in a background thread, and then every `ImsClient` call works.
    """

    def __init__(
        self,
        config: MockConfig | str | Path | None = None,
        *,
        store: str = "memory://",
        data_dir: str | Path | None = None,
        admin_token: str | None = None,
    ) -> None:
        self.config = _as_config(config)
        self.settings = Settings(
            config=self.config,
            store_url=store,
            data_dir=Path(data_dir) if data_dir else None,
            admin_token=admin_token,
        )
        self.context = Context(self.settings)
        self.app: Starlette = create_app(self.settings, context=self.context)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxy: InterceptingProxy | None = None
        self._ca_dir: tempfile.TemporaryDirectory[str] | None = None
        self._admin_token = admin_token
        super().__init__("http://127.0.0.1:0", admin_token=admin_token)

    @property
    def default_client(self) -> ClientConfig:
        return self.config.default_client

    def start(self, *, host: str = "127.0.0.1", port: int = 0, timeout: float = 10.0) -> MockIMS:
        if self._server is not None:
            raise RuntimeError("this MockIMS is already running")
        sock = bind_socket(host, port)
        url = url_for(sock, host)
        config = uvicorn.Config(
            guarded(self.app, self.settings), lifespan="on", log_level="warning", timeout_graceful_shutdown=1
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=self._serve, args=(server, sock), name="mock-ims", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started or self._loop is None:
            if not thread.is_alive():
                raise RuntimeError("the mock IMS server stopped while starting; see the log")
            if time.monotonic() > deadline:
                server.should_exit = True
                raise TimeoutError(f"the mock IMS did not start within {timeout}s")
            time.sleep(0.005)
        self._server, self._thread, self._socket = server, thread, sock
        self.close()
        ImsClient.__init__(self, url, admin_token=self._admin_token)
        return self

    def _serve(self, server: uvicorn.Server, sock: socket.socket) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            try:
                await server.serve(sockets=[sock])
            finally:
                if self._proxy is not None:
                    await self._proxy.close()
                    self._proxy = None

        asyncio.run(serve())

    def intercept(
        self,
        *,
        hosts: Mapping[str, Serves] = DEFAULT_HOSTS,
        port: int = 0,
        data_dir: str | Path | None = None,
        timeout: float = 10.0,
    ) -> Interception:
        """Serve IMS's and Lightroom's real hostnames through a proxy on loopback (see
        `mock_ims.tls.proxy`); the environment, CA and browser settings a partner app needs.

        The local CA lives in `data_dir/ca`, else in this mock's data directory, else in a
        temporary directory removed by `stop()`.
        """
        if self._server is None or self._loop is None:
            raise RuntimeError("start the mock before intercepting: MockIMS(...).start().intercept()")
        if self._proxy is not None:
            return self._proxy.interception()
        directory = data_dir or self.settings.data_dir
        if directory is None:
            self._ca_dir = tempfile.TemporaryDirectory(prefix="mock-ims-ca-")
            directory = self._ca_dir.name
        proxy = InterceptingProxy(self.app, self.context, LocalCA.load_or_create(Path(directory)), hosts)
        asyncio.run_coroutine_threadsafe(proxy.start("127.0.0.1", port), self._loop).result(timeout)
        self._proxy = proxy
        return proxy.interception()

    @property
    def interception(self) -> Interception | None:
        """The running proxy's settings, if `intercept()` started one."""
        return self._proxy.interception() if self._proxy is not None else None

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()
        self._server = self._thread = None
        self._loop = None
        if self._ca_dir is not None:
            self._ca_dir.cleanup()
            self._ca_dir = None
        self.close()

    @classmethod
    @contextmanager
    def running(
        cls,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        config: MockConfig | str | Path | None = None,
        store: str = "memory://",
        data_dir: str | Path | None = None,
        admin_token: str | None = None,
    ) -> Iterator[MockIMS]:
        """Serve a mock on loopback for the duration of the `with` block."""
        ims = cls(config, store=store, data_dir=data_dir, admin_token=admin_token)
        ims.start(host=host, port=port)
        try:
            yield ims
        finally:
            ims.stop()
