"""The partner app as a process the suite starts, watches and stops.

The command runs through the shell in a process group of its own. Stopping it stops the whole
group, not only the shell: SIGTERM, then SIGKILL for whatever is still there after a grace
period (a server busy with a hung request may ignore SIGTERM), and the suite waits until no
process of the group is left.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import httpx

from conformance.browser.trust import client_context, untrusted, verification_failure
from conformance.config import PartnerConfigError

STOP_GRACE_S = 5.0  # SIGTERM to SIGKILL
REAP_TIMEOUT_S = 5.0  # SIGKILL to "gone"
OUTPUT_TAIL_CHARS = 4000


class PartnerError(RuntimeError):
    """The partner app could not be started or reached."""


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`, read from /proc."""
    members: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return _group_alive_without_proc(pgid)
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses; split after it.
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] != b"Z":
            members.append(int(entry))
    return members


def _group_alive_without_proc(pgid: int) -> list[int]:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return []
    return [pgid]


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _wait_until_gone(pgid: int, process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        process.poll()  # reap the shell itself, so it does not linger as a zombie member
        if not group_members(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def wait_until_answering(
    url: str,
    timeout: float,
    process: subprocess.Popen[bytes] | None = None,
    *,
    ca_file: Path | None = None,
) -> None:
    """Wait until `url` answers (any status). A certificate the suite does not trust is a
    configuration error at once: waiting longer would not change it."""
    verify = client_context(ca_file)
    deadline = time.monotonic() + timeout
    delay = 0.02
    last_error = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise PartnerError(
                f"the partner command exited with status {process.returncode} before {url} answered"
            )
        try:
            httpx.get(url, timeout=2, follow_redirects=False, verify=verify)
            return
        except httpx.HTTPError as exc:
            if (failure := verification_failure(exc)) is not None:
                raise PartnerConfigError(
                    untrusted(url, failure.verify_message or str(failure), ca_file)
                ) from exc
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

    def start(self, ready_url: str, timeout: float = 30.0, *, ca_file: Path | None = None) -> None:
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
            wait_until_answering(ready_url, timeout, self._process, ca_file=ca_file)
        except PartnerConfigError:
            self.stop()
            raise
        except PartnerError as exc:
            self.stop()
            raise PartnerError(
                f"{exc}\n--- partner output ({self.log_path}) ---\n{self.output_tail()}"
            ) from exc

    def output(self) -> str:
        try:
            return self.log_path.read_text("utf-8", errors="replace")
        except OSError:
            return ""

    @property
    def pid(self) -> int | None:
        """The shell's pid, which is also the app's process group id."""
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> int | None:
        """The app's exit status once it has exited (the shell's: the command's, for one command)."""
        return self._process.poll() if self._process is not None else None

    def output_tail(self, chars: int = OUTPUT_TAIL_CHARS) -> str:
        return self.output()[-chars:]

    def stop(self, grace: float = STOP_GRACE_S) -> None:
        """Stop every process of the app's group: SIGTERM, SIGKILL after `grace` seconds."""
        process = self._process
        if process is None:
            return
        pgid = process.pid  # start_new_session: the shell leads a group of its own
        if not group_members(pgid):
            process.poll()
            return
        _signal_group(pgid, signal.SIGTERM)
        if not _wait_until_gone(pgid, process, grace):
            _signal_group(pgid, signal.SIGKILL)
            _wait_until_gone(pgid, process, REAP_TIMEOUT_S)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(1)

    def describe(self) -> str:
        return f"{shlex.quote(self.command)} in {self.cwd}"
