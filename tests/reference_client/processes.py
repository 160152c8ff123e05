"""The reference client as its users run it: `python -m reference_client` in a subprocess."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.helpers.processes import wait_until_ready

URL_LINE = re.compile(r"URL:\s+(http\S+?)/?$", re.MULTILINE)


@dataclass
class AppProcess:
    process: subprocess.Popen[str]
    url: str
    output: list[str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(self.output)


@contextmanager
def reference_client_process(
    env: Mapping[str, str], *args: str, timeout: float = 30.0
) -> Iterator[AppProcess]:
    """Start it on a free port; yield once its URL answers; stop it (SIGTERM) afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "reference_client", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(env),
    )
    output: list[str] = []
    found = threading.Event()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            if URL_LINE.search(line):
                found.set()
        found.set()

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    try:
        match = URL_LINE.search("".join(output)) if found.wait(timeout) else None
        if match is None:
            raise RuntimeError("the reference client did not print its URL:\n" + "".join(output))
        url = match.group(1)
        wait_until_ready(f"{url}/healthz", timeout, process)
        yield AppProcess(process, url, output)
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
