"""Running the mock on a real socket: one process, or several uvicorn workers sharing a store."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette

from mock_ims.config import MockConfig
from mock_ims.serving.app import create_app, guarded
from mock_ims.serving.coalescing import CoalescingHttpToolsProtocol
from mock_ims.serving.logs import log_config
from mock_ims.state.context import Context, Settings
from mock_ims.tls.ca import LeafFiles, LocalCA
from mock_ims.tls.proxy import InterceptingProxy, Serves


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """Bind and listen before serving, so `--port 0` can report the port it got.

    `shared`: for several workers, only reserve the port; each worker listens on its own
    socket bound to it (see mock_ims/serving/workers.py).
    """
    if shared:
        from mock_ims.serving.workers import reserve_port

        return reserve_port(host.strip("[]"), port)
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_for(sock: socket.socket, host: str, scheme: str = "http") -> str:
    port = sock.getsockname()[1]
    shown = host if host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104 - display only
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"{scheme}://{shown}:{port}"


def settings_to_json(settings: Settings) -> str:
    return json.dumps(
        {
            "config": settings.config.to_dict(),
            "store_url": settings.store_url,
            "data_dir": str(settings.data_dir) if settings.data_dir else None,
            "allow_remote": settings.allow_remote,
            "admin_token": settings.admin_token,
            "extra_hosts": list(settings.extra_hosts),
        }
    )


def settings_from_json(text: str) -> Settings:
    data: dict[str, Any] = json.loads(text)
    config = data["config"]
    config.pop("extra", None)
    return Settings(
        config=MockConfig.from_dict(config),
        store_url=data["store_url"],
        data_dir=Path(data["data_dir"]) if data["data_dir"] else None,
        allow_remote=data["allow_remote"],
        admin_token=data["admin_token"],
        extra_hosts=tuple(data["extra_hosts"]),
    )


@dataclass(frozen=True)
class ProxyPlan:
    """The intercepting proxy to serve beside the mock (`--proxy-port`)."""

    sock: socket.socket
    ca: LocalCA
    hosts: Mapping[str, Serves]

    def proxy(self, app: Starlette) -> InterceptingProxy:
        ims: Context = app.state.ims
        return InterceptingProxy(app, ims, self.ca, self.hosts)


def _tls_options(tls: LeafFiles | None) -> dict[str, Any]:
    return {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)} if tls else {}


class ServerWithProxy(uvicorn.Server):
    """uvicorn's server, with the intercepting proxy on the same event loop (the memory store's
    operations are atomic only on one loop), started before the mock and stopped before it."""

    def __init__(self, config: uvicorn.Config, proxy: InterceptingProxy, proxy_sock: socket.socket) -> None:
        super().__init__(config)
        self.proxy = proxy
        self.proxy_sock = proxy_sock

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await self.proxy.start(sock=self.proxy_sock)
        await super().startup(sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await self.proxy.close()
        await super().shutdown(sockets)


def _proxy_thread(settings: Settings, plan: ProxyPlan) -> Callable[[], None]:
    """The proxy of a multi-worker mock: its own app on the shared store, in the supervisor."""

    def serve() -> None:
        async def forever() -> None:
            proxy = plan.proxy(create_app(settings))
            await proxy.start(sock=plan.sock)
            await asyncio.Event().wait()

        asyncio.run(forever())

    return serve


def run(
    settings: Settings,
    sock: socket.socket,
    *,
    workers: int = 1,
    log_level: str = "warning",
    access_log: bool = False,
    tls: LeafFiles | None = None,
    proxy: ProxyPlan | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM stop it cleanly)."""
    if workers == 1:
        app = create_app(settings)
        config = uvicorn.Config(
            guarded(app, settings),
            http=CoalescingHttpToolsProtocol,
            lifespan="on",
            log_level=log_level,
            access_log=access_log,
            log_config=log_config(),
            timeout_graceful_shutdown=3,
            **_tls_options(tls),
        )
        server = (
            uvicorn.Server(config) if proxy is None else ServerWithProxy(config, proxy.proxy(app), proxy.sock)
        )
        server.run(sockets=[sock])
        return
    # `sock` only holds the port (bind_socket(..., shared=True)): each worker listens on its own.
    from mock_ims.serving.workers import Supervisor, WorkerPlan

    host, port = sock.getsockname()[:2]
    plan = WorkerPlan(
        settings_to_json(settings),
        host,
        port,
        log_level=log_level,
        access_log=access_log,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
    if proxy is not None:
        threading.Thread(target=_proxy_thread(settings, proxy), name="mock-ims-proxy", daemon=True).start()
    Supervisor(plan, workers).run()
