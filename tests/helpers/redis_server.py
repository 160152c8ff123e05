"""Debian's `redis-server` on a free loopback port, for the Redis store's tests.

Started with no persistence (`--save '' --appendonly no`); waits for PING instead of sleeping.
Tests that need it skip, saying why, when `redis-server` or the `redis` package is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MISSING_SERVER = "redis-server is not installed (scripts/install-system-deps installs it)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_ping(url: str, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    import redis

    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode} before answering PING")
        try:
            with redis.Redis.from_url(url) as client:
                client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


@contextmanager
def redis_server(work_dir: Path) -> Iterator[str]:
    """A private redis-server; yields its URL (`redis://127.0.0.1:PORT/0`). Skips the test when
    redis-server or the redis package is missing."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip(MISSING_SERVER)
    pytest.importorskip("redis", reason="the redis package is in the test extra (pip install -e '.[test]')")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=work_dir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_ping(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
