"""A run stopped early still ends well: `--timeout`, Ctrl-C or SIGTERM to the suite leave the
reports written (the checks not judged are ERROR "not judged: the run was stopped") and no
process of the app running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conformance.test_partner_process import alive

pytestmark = pytest.mark.browser

# The reference client, started through a shell that first writes its pid (= the app's process
# group) where the test can read it.
CONFIG = """[partner]
base_url = "http://127.0.0.1:0"
start_login = "/login"
callback = "/callback"
after_login = "/profile"
needs_token = "/profile"
logout = "click:#sign-out"
command = "echo $$ > {pid_file} && exec {{python}} -m reference_client --port {{port}} --log-level warning"
env = {{ IMS_BASE_URL = "{{ims_url}}", IMS_CLIENT_ID = "{{client_id}}", IMS_CLIENT_SECRET = "{{client_secret}}", REDIRECT_URI = "{{redirect_uri}}", LIGHTROOM_BASE_URL = "{{lightroom_url}}", DATA_DIR = "{{work_dir}}" }}
"""


def start_suite(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[str], Path, Path]:
    pid_file = tmp_path / "app.pid"
    config = tmp_path / "partner.toml"
    config.write_text(CONFIG.format(pid_file=pid_file), "utf-8")
    report = tmp_path / "report"
    suite = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--config",
            str(config),
            "--report-dir",
            str(report),
            *options,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    return suite, report, pid_file


def verdicts(report: Path) -> dict[str, dict[str, str]]:
    data = json.loads((report / "results.json").read_text("utf-8"))
    return {r["id"]: r for r in data["results"]}


def group_gone(pid_file: Path) -> bool:
    pgid = int(pid_file.read_text().strip())
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return not alive(pgid)
    return False


def test_sigterm_mid_run_writes_the_reports_and_stops_the_app(tmp_path: Path) -> None:
    suite, report, pid_file = start_suite(tmp_path)
    assert suite.stderr is not None
    for line in suite.stderr:  # wait for the first verdict: the run is under way
        if line.startswith("  PASS") or line.startswith("  FAIL"):
            break
    suite.send_signal(signal.SIGTERM)
    _, rest = suite.communicate(timeout=60)

    assert suite.returncode == 1
    results = verdicts(report)
    stopped = [r for r in results.values() if r["summary"].startswith("not judged: the run was stopped")]
    assert stopped and "stopped by SIGTERM" in stopped[0]["summary"]
    assert any(r["verdict"] == "PASS" for r in results.values())  # what was judged is kept
    assert (report / "junit.xml").is_file() and (report / "report.html").is_file()
    assert group_gone(pid_file)
    assert "Traceback" not in rest


def test_timeout_ends_the_run_with_the_checks_not_judged_as_errors(tmp_path: Path) -> None:
    started = time.monotonic()
    suite, report, pid_file = start_suite(tmp_path, "--timeout", "6")
    out, err = suite.communicate(timeout=120)

    assert time.monotonic() - started < 40, err
    assert suite.returncode == 1
    results = verdicts(report)
    assert any("longer than --timeout 6s" in r["summary"] for r in results.values()), err
    assert "the run did not finish" in (report / "results.json").read_text("utf-8")
    assert group_gone(pid_file)
    assert "Traceback" not in out + err
