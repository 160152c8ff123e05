"""The judge on apps that break as processes or servers: each run ends within its bound, with a
report on disk and verdicts that name the cause.

`tests/conformance/partners/misbehaving` is a Flask partner app written apart from the suite,
from the README alone, correct until `MISBEHAVE` picks one way to break:

- `hang-protected`: every signed-in page blocks forever (a server stuck on a lock);
- `cut-body`: `/profile` promises a Content-Length, sends part of the page and hangs up;
- `huge-page`: `/profile` is a valid 50 MB page;
- `exit-after-signin`: the process exits with status 3 right after a sign-in;
- `ignore-sigterm`: correct, but it and the worker it spawned ignore SIGTERM.

Bounds are for this 2-core machine with three runs side by side (one at a time, the hanging
app is judged in about 80 s and the 50 MB page in about 95 s); before, these runs took 5 minutes
and more, or never ended.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_partner_process import alive
from tests.helpers.conformance_runs import (
    ID_TOKEN_IGNORED,
    LIGHTROOM_NEVER_EXPIRED,
    SuiteRun,
    run_conformance,
)

pytestmark = pytest.mark.browser
APP = Path(__file__).parent / "partners" / "misbehaving"
MODES = ("hang-protected", "cut-body", "huge-page", "exit-after-signin", "ignore-sigterm")
BOUND_S = {
    # Every sign-in hangs once for the step timeout (10 s): 81 s alone before the five ID token
    # probes, 136 s with them (measured 2026-12-03); two other runs share the machine here.
    "hang-protected": 240,
    "cut-body": 90,
    # Every load of /profile waits out the step timeout: 95 s alone with 13 probes, more with the
    # six that sign in since (ID tokens, sessions); under the run's own 300 s --timeout.
    "huge-page": 280,
    "exit-after-signin": 30,
    "ignore-sigterm": 90,
}


@dataclass
class Judged:
    run: SuiteRun
    seconds: float

    def result(self, check_id: str) -> dict[str, Any]:
        found: dict[str, Any] = next(r for r in self.run.results["results"] if r["id"] == check_id)
        return found

    def evidence_titles(self, check_id: str) -> list[str]:
        return [e["title"] for e in self.result(check_id)["evidence"]]


def judge(mode: str, reports: Path) -> Judged:
    started = time.monotonic()
    run = run_conformance(APP / f"{mode}.toml", reports / mode)
    return Judged(run, time.monotonic() - started)


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Judged]]]:
    reports = tmp_path_factory.mktemp("misbehaving")
    with ThreadPoolExecutor(max_workers=3) as pool:
        yield {mode: pool.submit(judge, mode, reports) for mode in MODES}


@pytest.mark.parametrize("mode", MODES)
def test_each_run_ends_within_its_bound_with_a_report(judged: dict[str, Future[Judged]], mode: str) -> None:
    outcome = judged[mode].result()
    assert outcome.seconds < BOUND_S[mode], f"{outcome.seconds:.0f} s\n{outcome.run.output()[-2000:]}"
    assert outcome.run.verdicts, outcome.run.output()[-2000:]  # results.json was written
    assert (outcome.run.report / "report.html").is_file()
    assert "Traceback" not in outcome.run.output()


def test_a_page_that_never_answers_is_named_with_the_journal_and_the_apps_log(
    judged: dict[str, Future[Judged]],
) -> None:
    outcome = judged["hang-protected"].result()
    shown = outcome.result("profile.shown")
    assert shown["verdict"] == "FAIL"
    assert shown["summary"] == (
        "the login did not complete: GET /profile did not answer within 10 s after the sign-in at IMS"
    )
    titles = outcome.evidence_titles("profile.shown")
    assert "the mock's journal when the app stopped answering" in titles
    assert any(t.startswith("the last lines of the app's log") for t in titles)
    # What never happened is not judged as if it had: the refresh checks say why they SKIP.
    assert outcome.result("refresh.on-expiry")["verdict"] == "SKIP"
    assert "did not answer within 10 s" in outcome.result("refresh.on-expiry")["summary"]


def test_a_response_cut_mid_body_is_named_as_such(judged: dict[str, Future[Judged]]) -> None:
    shown = judged["cut-body"].result().result("profile.shown")
    assert shown["verdict"] == "FAIL"
    assert "GET /profile: answered 200, then the response broke off (net::ERR_" in shown["summary"]


def test_a_50_mb_page_is_named_as_not_finishing_to_load(judged: dict[str, Future[Judged]]) -> None:
    outcome = judged["huge-page"].result()
    shown = outcome.result("profile.shown")
    assert shown["verdict"] == "FAIL"
    assert "GET /profile answered 200 but did not finish loading within 10 s" in shown["summary"]
    shots = outcome.run.report / "screenshots"
    assert sum(p.stat().st_size for p in shots.glob("*.png")) < 10_000_000  # no full-page shot of 50 MB


def test_an_app_that_exits_makes_every_later_probe_an_error_with_its_status(
    judged: dict[str, Future[Judged]],
) -> None:
    outcome = judged["exit-after-signin"].result()
    errors = [r for r in outcome.run.results["results"] if r["verdict"] == "ERROR"]
    assert errors and all(
        "the app exited with status 3 during the login probe" in r["summary"] for r in errors
    )
    assert not [r for r in outcome.run.results["results"] if r["verdict"] == "FAIL"]  # no content FAILs
    log = next(e for e in errors[0]["evidence"] if e["title"].startswith("the last lines of the app's log"))
    assert "fatal: lost the session store" in str(log["data"])


def test_an_app_that_ignores_sigterm_leaves_no_process_behind(judged: dict[str, Future[Judged]]) -> None:
    outcome = judged["ignore-sigterm"].result()
    not_passed = {k: v for k, v in outcome.run.verdicts.items() if v != "PASS"}
    # It declares no storage, takes the user from userinfo without validating the ID token, and
    # calls no Lightroom API.
    allowed = {
        "storage.written",
        "storage.encrypted",
        *ID_TOKEN_IGNORED,
        "lightroom.api-key",
        *LIGHTROOM_NEVER_EXPIRED,
    }
    assert set(not_passed) <= allowed, not_passed
    worker = int((outcome.run.report / "partner-work" / "worker.pid").read_text().strip())
    assert not alive(worker)


def test_a_command_that_cannot_start_fails_at_once_with_the_shells_error(tmp_path: Path) -> None:
    config = tmp_path / "partner.toml"
    config.write_text(
        '[partner]\nbase_url = "http://127.0.0.1:0"\ncommand = "no-such-partner-server --port {port}"\n'
    )
    started = time.monotonic()
    run = run_conformance(config, tmp_path / "report")

    assert time.monotonic() - started < 15  # the suite's own start-up included; the app fails at once
    assert run.process.returncode == 1
    summaries = {r["summary"] for r in run.results["results"]}
    assert len(summaries) == 1, summaries
    assert summaries.pop().startswith("set-up failed: the partner command exited with status 127 before")
    assert "no-such-partner-server: not found" in run.process.stderr  # what sh said, whole
