"""Start real servers as subprocesses on free loopback ports, and wait until they answer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

URL_LINE = re.compile(r"base URL:\s+(http\S+)")
PROXY_LINE = re.compile(r"proxy:\s+(http://\S+)")


@dataclass
class RunningProcess:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.output)


def wait_until_ready(url: str, timeout: float = 20.0, process: subprocess.Popen[str] | None = None) -> None:
    """Poll `url` until it answers (any status); no fixed sleeps."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            httpx.get(url, timeout=2, verify=False)  # noqa: S501 - readiness only; TLS tests verify
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout}s") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


@contextmanager
def announced_process(
    command: Sequence[str],
    announcement: re.Pattern[str],
    *,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 20.0,
) -> Iterator[RunningProcess]:
    """Start `command`; yield once a line of its output matches `announcement` (whose first group
    is the URL); stop it (SIGTERM, then SIGKILL) afterwards. `env` replaces the environment."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(env) if env is not None else None,
    )
    output: list[str] = []
    found: list[str] = []
    settled = threading.Event()  # the URL was printed, or the output ended

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            match = announcement.search(line)
            if match and not found:
                found.append(match.group(1))
                settled.set()
        settled.set()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        if not settled.wait(timeout) or not found:
            raise RuntimeError(f"{what} did not print its URL:\n{''.join(output)}")
        yield RunningProcess(process, found[0], output)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        thread.join(5)
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def mock_ims_process(
    *args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 20.0
) -> Iterator[RunningProcess]:
    """`mock-ims serve --port 0 ...` in a subprocess; yields once its URL answers."""
    command = [sys.executable, "-m", "mock_ims", "serve", "--port", "0", "--data-dir", str(data_dir), *args]
    with announced_process(
        command, URL_LINE, what="mock-ims", env={**os.environ, **(env or {})}, timeout=timeout
    ) as running:
        wait_until_ready(f"{running.url}/ims/keys", timeout, running.process)
        yield running
