"""The app the suite starts never outlives the run: its whole process group is stopped.

A server busy with a hung request may ignore SIGTERM, and a worker it spawned may outlive it; the
suite signals the group, waits, SIGKILLs what is left, and waits until no process of the group
remains. The shell's own error for a command that cannot start is kept whole.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import pytest

from conformance.stage.partner import PartnerError, PartnerProcess, group_members

# A server that ignores SIGTERM and whose worker (another process of its group) ignores it too.
STUBBORN_SERVER = """
import http.server, signal, subprocess, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
worker = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(3600)"])
print("worker", worker.pid, flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_an_app_that_ignores_sigterm_is_killed_with_every_process_of_its_group(tmp_path: Path) -> None:
    (tmp_path / "server.py").write_text(STUBBORN_SERVER, "utf-8")
    port = free_port()
    app = PartnerProcess(
        f"{sys.executable} server.py {port}", cwd=tmp_path, env={}, log_path=tmp_path / "partner.log"
    )
    app.start(f"http://127.0.0.1:{port}/", timeout=30)
    pgid = app.pid
    assert pgid is not None
    members = group_members(pgid)
    assert len(members) >= 2, members  # the shell (or the server) and the worker

    started = time.monotonic()
    app.stop(grace=0.5)

    assert group_members(pgid) == []
    assert not any(alive(pid) for pid in members)
    assert time.monotonic() - started < 10
    assert app.returncode is not None


def test_a_bad_command_keeps_the_shells_own_error_and_fails_at_once(tmp_path: Path) -> None:
    app = PartnerProcess(
        "no-such-partner-server --port 1", cwd=tmp_path, env={}, log_path=tmp_path / "partner.log"
    )
    started = time.monotonic()
    with pytest.raises(PartnerError) as raised:
        app.start(f"http://127.0.0.1:{free_port()}/", timeout=30)

    assert time.monotonic() - started < 5
    message = str(raised.value)
    assert "exited with status 127" in message
    assert "no-such-partner-server: not found" in message  # what sh said, whole


def test_stopping_an_app_that_already_exited_is_quiet(tmp_path: Path) -> None:
    port = free_port()
    app = PartnerProcess(
        f"{sys.executable} -m http.server {port} --bind 127.0.0.1",
        cwd=tmp_path,
        env={},
        log_path=tmp_path / "partner.log",
    )
    app.start(f"http://127.0.0.1:{port}/", timeout=30)
    assert app.pid is not None
    os.killpg(app.pid, 9)
    app.stop()
    app.stop()
    assert app.returncode is not None
