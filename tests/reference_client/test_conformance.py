"""The reference client is the conformance suite's known-good control: every check passes on it.

The suite starts it the way a partner's CI would (a command and environment variables in a
partner description), drives it in Chromium against its own mock, and scans its storage.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

PARTNER = """
[partner]
base_url = "http://127.0.0.1:{port}"
start_login = "/login"
callback = "/callback"
after_login = "/profile"
needs_token = "/profile"
logout = "click:#sign-out"
command = "{python} -m reference_client --port {{port}}"
ready_path = "/healthz"

[partner.env]
IMS_BASE_URL = "{{ims_url}}"
IMS_CLIENT_ID = "{{client_id}}"
IMS_CLIENT_SECRET = "{{client_secret}}"
LIGHTROOM_BASE_URL = "{{lightroom_url}}"
REDIRECT_URI = "{{redirect_uri}}"
DATA_DIR = "var"

[storage]
files = ["var/**"]
sqlite = ["var/tokens.db"]
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_every_conformance_check_passes_on_the_reference_client(tmp_path: Path) -> None:
    config = tmp_path / "partner.toml"
    config.write_text(PARTNER.format(port=free_port(), python=sys.executable))
    report = tmp_path / "report"
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--config", str(config), "--report-dir", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert (report / "results.json").is_file(), result.stdout + result.stderr
    results = json.loads((report / "results.json").read_text())
    verdicts = {r["id"]: r["verdict"] for r in results["results"]}
    assert set(verdicts.values()) == {"PASS"}, result.stdout + result.stderr
    assert len(verdicts) >= 25
    assert result.returncode == 0
