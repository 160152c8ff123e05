"""Several worker processes behind one port, with the kernel spreading connections over them.

uvicorn's own supervisor hands every worker the same listening socket. Under keep-alive, a
burst of new connections is accepted by whichever worker wakes first and stays with it: in a
load test of 20 connections against two workers, every request of one run in three went to a
single worker while the other idled. Here each worker listens on its own socket bound to the
shared port with SO_REUSEPORT, and the kernel hashes each new connection to one of them.

The supervisor starts the workers, restarts one that dies after it started, stops everything
if one cannot start (the same failure would repeat), and stops them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

GRACEFUL_SECONDS = 3
BACKLOG = 2048


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker process needs to serve (it is pickled into the process)."""

    settings_json: str
    host: str
    port: int
    log_level: str = "warning"
    access_log: bool = False
    ssl_certfile: str | None = None  # --tls / --cert: each worker serves HTTPS
    ssl_keyfile: str | None = None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def reserve_port(host: str, port: int) -> socket.socket:
    """Bind (without listening) with SO_REUSEPORT: the port is ours, and each worker can bind
    it too. A socket that does not listen receives no connections."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def listen_shared(host: str, port: int) -> socket.socket:
    """This worker's own listening socket on the shared port."""
    sock = reserve_port(host, port)
    sock.listen(BACKLOG)
    return sock


def serve_worker(plan: WorkerPlan) -> None:
    """The body of one worker process."""
    # Imported here: the supervisor itself never builds an app.
    from mock_ims.serving.app import create_app, guarded
    from mock_ims.serving.coalescing import CoalescingHttpToolsProtocol
    from mock_ims.serving.logs import log_config
    from mock_ims.serving.server import settings_from_json

    try:
        sock = listen_shared(plan.host, plan.port)
    except OSError as exc:
        print(
            f"mock-ims: worker {os.getpid()} cannot listen on {plan.host}:{plan.port}: {exc}", file=sys.stderr
        )
        sys.exit(STARTUP_FAILURE)
    settings = settings_from_json(plan.settings_json)
    config = uvicorn.Config(
        guarded(create_app(settings), settings),
        http=CoalescingHttpToolsProtocol,
        lifespan="on",
        log_level=plan.log_level,
        access_log=plan.access_log,
        log_config=log_config(),
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ssl_certfile=plan.ssl_certfile,
        ssl_keyfile=plan.ssl_keyfile,
    )
    # Ctrl-C reaches the whole process group; the supervisor reports the stop.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    def __init__(self, plan: WorkerPlan, count: int) -> None:
        self.plan = plan
        self.count = count
        self.processes: list[BaseProcess] = []
        self._stop = threading.Event()
        self._context = multiprocessing.get_context("spawn")

    def _start(self) -> BaseProcess:
        process = self._context.Process(target=serve_worker, args=(self.plan,), name="mock-ims-worker")
        process.start()
        return process

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM, or until a worker cannot start."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.processes = [self._start() for _ in range(self.count)]
            while not self._stop.wait(0.25):
                self._replace_the_dead()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _replace_the_dead(self) -> None:
        for index, process in enumerate(self.processes):
            if process.exitcode is None:
                continue
            if process.exitcode == STARTUP_FAILURE:
                print("mock-ims: a worker could not start; stopping.", file=sys.stderr, flush=True)
                self._stop.set()
                return
            print(
                f"mock-ims: worker {process.pid} died ({process.exitcode}); starting another.",
                file=sys.stderr,
            )
            self.processes[index] = self._start()

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.exitcode is None and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.join(GRACEFUL_SECONDS + 2)
            if process.exitcode is None:
                process.kill()
                process.join()
