"""The partner app as a process the suite starts, watches and stops."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import httpx


class PartnerError(RuntimeError):
    """The partner app could not be started or reached."""


def wait_until_answering(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.02
    last_error = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise PartnerError(
                f"the partner command exited with status {process.returncode} before {url} answered"
            )
        try:
            httpx.get(url, timeout=2, follow_redirects=False)
            return
        except httpx.HTTPError as exc:
            last_error = str(exc) or type(exc).__name__
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
    raise PartnerError(f"{url} did not answer within {timeout:g}s ({last_error})")


class PartnerProcess:
    """`command` run through the shell in `cwd`, its output kept in `log_path` (scanned for tokens)."""

    def __init__(self, command: str, *, cwd: Path, env: dict[str, str], log_path: Path) -> None:
        self.command = command
        self.cwd = cwd
        self.env = env
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, ready_url: str, timeout: float = 30.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        try:
            self._process = subprocess.Popen(  # noqa: S602 - the partner's own command line
                self.command,
                shell=True,
                cwd=self.cwd,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        try:
            wait_until_answering(ready_url, timeout, self._process)
        except PartnerError as exc:
            self.stop()
            raise PartnerError(
                f"{exc}\n--- partner output ({self.log_path}) ---\n{self.output()[-4000:]}"
            ) from exc

    def output(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def describe(self) -> str:
        return f"{shlex.quote(self.command)} in {self.cwd}"
