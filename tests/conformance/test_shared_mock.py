"""Runs side by side: on one shared mock (`[ims] url`) they take turns through the mock's lease,
so one run's clock moves never reach another's verdicts; with default options each run keeps
its own report directory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_ims import ClientConfig, MockIMS, default_config

ROOT = Path(__file__).parents[2]
ADMIN_TOKEN = "shared-mock-admin"
CLIENT = ClientConfig(
    client_id="shared-partner",
    client_secret="shared-partner-secret",
    name="A partner app judged on a shared mock",
    redirect_uris=(r"http://127\.0\.0\.1:\d+/callback",),
    default_redirect_uri="http://127.0.0.1:8000/callback",
    scopes=("openid", "AdobeID", "lr_partner_apis", "offline_access", "email", "profile"),
    grant_types=("authorization_code", "refresh_token"),
)
REFERENCE_CLIENT = """[partner]
base_url = "http://127.0.0.1:0"
start_login = "/login"
callback = "/callback"
after_login = "/profile"
needs_token = "/profile"
logout = "click:#sign-out"
command = "{python} -m reference_client --port {port} --log-level warning"
env = { IMS_BASE_URL = "{ims_url}", IMS_CLIENT_ID = "{client_id}", IMS_CLIENT_SECRET = "{client_secret}", REDIRECT_URI = "{redirect_uri}", LIGHTROOM_BASE_URL = "{lightroom_url}", DATA_DIR = "{work_dir}" }

[storage]
files = ["{work_dir}/**"]
sqlite = ["{work_dir}/*.db"]
"""


@pytest.fixture
def shared_mock() -> Iterator[MockIMS]:
    mock = MockIMS(default_config().with_overrides(clients=(CLIENT,)), admin_token=ADMIN_TOKEN).start()
    try:
        yield mock
    finally:
        mock.stop()


def describe(directory: Path, mock: MockIMS) -> Path:
    path = directory / "partner.toml"
    shared = (
        f'\n[ims]\nurl = "{mock.url}"\nclient_id = "{CLIENT.client_id}"\n'
        f'client_secret = "{CLIENT.client_secret}"\nadmin_token = "{ADMIN_TOKEN}"\n'
    )
    path.write_text(REFERENCE_CLIENT + shared, "utf-8")
    return path


def suite(config: Path, *options: str, cwd: Path = ROOT) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--config", str(config), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )


def verdicts(report: Path) -> dict[str, str]:
    data = json.loads((report / "results.json").read_text("utf-8"))
    return {r["id"]: r["verdict"] for r in data["results"]}


def wait_until_leased(mock: MockIMS, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while mock.lease.current() is None:
        assert time.monotonic() < deadline, "the first run never took the lease"
        time.sleep(0.05)


@pytest.mark.browser
def test_two_runs_on_one_shared_mock_take_turns_and_both_pass(tmp_path: Path, shared_mock: MockIMS) -> None:
    config = describe(tmp_path, shared_mock)
    first = suite(config, "--report-dir", str(tmp_path / "first"))
    wait_until_leased(shared_mock)
    second = suite(config, "--report-dir", str(tmp_path / "second"), "--wait-for-mock", "300")
    first_out = first.communicate(timeout=600)
    second_out = second.communicate(timeout=600)

    for name, process, output in (("first", first, first_out), ("second", second, second_out)):
        results = verdicts(tmp_path / name)
        failing = {check: verdict for check, verdict in results.items() if verdict != "PASS"}
        assert process.returncode == 0 and not failing, (failing, output[1][-3000:])
    assert shared_mock.lease.current() is None  # given back


def test_a_run_on_a_mock_another_run_holds_is_refused_at_once_naming_the_holder(
    tmp_path: Path, shared_mock: MockIMS
) -> None:
    shared_mock.lease.acquire("ims-conformance on ci-runner-7 (pid 4242)", ttl=120)
    started = time.monotonic()
    run = suite(describe(tmp_path, shared_mock), "--report-dir", str(tmp_path / "r"))
    out, err = run.communicate(timeout=60)

    assert run.returncode == 2, err
    assert "ims.url: the mock at" in err and "is in use by ims-conformance on ci-runner-7 (pid 4242)" in err
    assert "--wait-for-mock" in err
    assert time.monotonic() - started < 20
    assert "Traceback" not in out + err


def test_two_runs_with_default_options_keep_separate_reports(tmp_path: Path) -> None:
    config = tmp_path / "partner.toml"
    config.write_text(REFERENCE_CLIENT, "utf-8")
    runs = [suite(config, "--only", "scope.required", cwd=tmp_path) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]

    reports = sorted((tmp_path / "conformance-report").glob("run-*"))
    assert len(reports) == 2, outputs
    for report in reports:
        assert verdicts(report) == {"scope.required": "PASS"}
        assert (report / "partner.log").is_file()
    latest = (tmp_path / "conformance-report" / "latest").resolve()
    assert latest in [r.resolve() for r in reports]
    for report in reports:  # each run says where its own report went
        assert any(report.name in out for out, _ in outputs), outputs
