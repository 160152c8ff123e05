"""The reference client as its users run it: `python -m reference_client` in a subprocess."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tests.helpers.processes import RunningProcess, announced_process, wait_until_ready

URL_LINE = re.compile(r"URL:\s+(http\S+?)/?$", re.MULTILINE)


@contextmanager
def reference_client_process(
    env: Mapping[str, str], *args: str, timeout: float = 30.0
) -> Iterator[RunningProcess]:
    """Start it on a free port; yield once its URL answers; stop it (SIGTERM) afterwards."""
    command = [sys.executable, "-m", "reference_client", "--port", "0", *args]
    with announced_process(command, URL_LINE, what="the reference client", env=env, timeout=timeout) as app:
        wait_until_ready(f"{app.url}/healthz", timeout, app.process)
        yield app
