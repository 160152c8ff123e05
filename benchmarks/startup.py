"""`mock-ims serve`: time from the command to its first answered request, and memory at rest."""

from __future__ import annotations

import socket
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import procs
from benchmarks.servers import StartError, launch, mock_command

REQUEST = b"GET /ims/keys HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


@dataclass
class Startup:
    first_start_s: float  # signing keys generated on this start
    ready_s: list[float] = field(default_factory=list)  # later starts, keys in the data directory
    idle_rss_mb: float = 0.0  # after the first answer

    @property
    def ready_median_s(self) -> float:
        return statistics.median(self.ready_s) if self.ready_s else self.first_start_s

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ready_median_s": round(self.ready_median_s, 3)}


def _answered(port: int) -> bool:
    """Send one request; True once a status line comes back."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(REQUEST)
            return sock.recv(16).startswith(b"HTTP/1.1 ")
    except OSError:
        return False


def time_to_ready(data_dir: Path, timeout: float = 30.0) -> tuple[float, float]:
    """Seconds from spawning `mock-ims serve` to its first answer, and its RSS then (MB)."""
    started = time.monotonic()
    running = launch(mock_command(data_dir), r"base URL:\s+(http\S+)", timeout=timeout)
    try:
        # The socket listens before the banner is printed: a request sent now waits in the
        # backlog until the server answers it, so no polling interval is added to the time.
        port = int(running.url.rsplit(":", 1)[1])
        while not _answered(port):
            if running.process.poll() is not None or time.monotonic() - started > timeout:
                raise StartError(f"mock-ims serve did not answer:\n{''.join(running.output)}")
            time.sleep(0.002)
        return time.monotonic() - started, procs.rss_mb(running.process.pid)
    finally:
        running.stop()


def measure(data_dir: Path, starts: int) -> Startup:
    first, _ = time_to_ready(data_dir)
    startup = Startup(first_start_s=round(first, 3))
    for _ in range(starts):
        elapsed, rss = time_to_ready(data_dir)
        startup.ready_s.append(round(elapsed, 3))
        startup.idle_rss_mb = round(rss, 1)
    return startup
