"""The pytest plugin behind `ims-conformance run`: fixtures for the harness, the browser and the
observations, and a test outcome for every verdict."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser

from conformance.checks import REGISTRY
from conformance.checks.base import Judgement, journal_evidence, note, result_of
from conformance.journeys.observations import Observations, ProbeFailed
from conformance.model import CheckResult, Evidence, Verdict
from conformance.stage.harness import Harness
from conformance.storage.scan import snapshot
from conformance.text import printable


@dataclass
class ConformanceSession:
    harness: Harness
    selected: list[str]
    baseline: set[str]
    results: list[CheckResult] = field(default_factory=list)
    observations: Observations | None = None
    progress: bool = True

    def _why(self, judgement: Judgement) -> list[Evidence]:
        """When a verdict comes from the app hanging or exiting: what the mock saw then, and
        the app's last words."""
        said = f"{judgement.summary}\n{judgement.seen}"
        evidence = [
            journal_evidence("the mock's journal when the app stopped answering", hang.journal)
            for hang in self.harness.hangs
            if hang.message in said
        ]
        exited = self.observations is not None and self.observations.app_exited() is not None
        if evidence or (exited and judgement.verdict is Verdict.ERROR):
            evidence += _log_tail(self.harness)
        return evidence

    def judge(self, check_id: str) -> None:
        check = REGISTRY[check_id]
        if self.observations is None:
            raise RuntimeError("the conformance fixtures did not set up the observations")
        started = time.monotonic()
        try:
            judgement = check.judge(self.observations)
        except ProbeFailed as exc:
            judgement = Judgement(Verdict.ERROR, str(exc))
        except Exception as exc:  # a check must never take the run down; say what broke
            judgement = Judgement(Verdict.ERROR, f"the check itself failed: {type(exc).__name__}: {exc}")
        if judgement.verdict is not Verdict.PASS:
            judgement.evidence += self._why(judgement)
        result = result_of(
            check,
            judgement.verdict,
            judgement.summary,
            expected=judgement.expected,
            seen=judgement.seen,
            evidence=judgement.evidence,
            duration_s=time.monotonic() - started,
            baseline=judgement.verdict.blocks and check.id in self.baseline,
        )
        self.results.append(result)
        if self.progress:
            mark = " (expected by the baseline)" if result.baseline else ""
            width = max(len(i) for i in self.selected)
            print(
                f"  {result.verdict.value:<5} {check.id:<{width}}  {printable(result.summary, multiline=False)}{mark}",
                file=sys.stderr,
                flush=True,
            )
        _outcome(result)


LOG_TAIL_LINES = 40


def _log_tail(harness: Harness) -> list[Evidence]:
    process = harness.process
    if process is None:
        return []
    lines = process.output_tail().splitlines()[-LOG_TAIL_LINES:]
    return [note(f"the last lines of the app's log ({process.log_path.name})", "\n".join(lines))]


def _outcome(result: CheckResult) -> None:
    if result.baseline:
        pytest.xfail(f"{result.verdict.value} (baseline): {result.summary}")
    if result.verdict is Verdict.FAIL:
        pytest.fail(f"FAIL: {result.summary}", pytrace=False)
    if result.verdict is Verdict.ERROR:
        pytest.fail(f"ERROR: {result.summary}", pytrace=False)
    if result.verdict is Verdict.SKIP:
        pytest.skip(result.summary)


PLUGIN_NAME = "ims_conformance"


class ConformancePlugin:
    """Handed to `pytest.main(plugins=[...])` by the runner; the suite's conftest.py finds it by
    name for its fixtures."""

    def __init__(self, session: ConformanceSession) -> None:
        self.session = session

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "check_id" in metafunc.fixturenames:
            metafunc.parametrize("check_id", self.session.selected, ids=self.session.selected)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """A check whose fixtures broke (no browser, ...) is an ERROR with the reason."""
        if report.when != "setup" or not report.failed:
            return
        check_id = report.nodeid.rsplit("-", 1)[-1].rstrip("]")
        if check_id not in REGISTRY or any(r.id == check_id for r in self.session.results):
            return
        check = REGISTRY[check_id]
        lines = [line for line in str(report.longrepr).splitlines() if line.startswith("E ")]
        reason = lines[0][1:].strip() if lines else "the suite's set-up failed"
        result = result_of(check, Verdict.ERROR, f"set-up failed: {reason[:300]}")
        self.session.results.append(result)
        if self.session.progress:
            print(f"  ERROR {check.id}  {result.summary}", file=sys.stderr, flush=True)

    def start(self, browser: Browser, relaunch: Callable[[], Browser] | None = None) -> ConformanceSession:
        harness = self.session.harness
        observations = Observations(harness, browser)
        observations.relaunch = relaunch
        spec = harness.storage_spec()
        if spec is not None:
            observations.extra["storage-before"] = snapshot(spec)
        self.session.observations = observations
        return self.session
