"""Running the suite: select checks, set up, run them through pytest, write the reports."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conformance.browser.browsing import STEP_TIMEOUT_S
from conformance.checks import REGISTRY, ordered
from conformance.checks.base import result_of
from conformance.config import PartnerConfig, PartnerConfigError
from conformance.model import CheckResult, RunReport, Verdict
from conformance.reports import write_html, write_json
from conformance.run.plugin import PLUGIN_NAME, ConformancePlugin, ConformanceSession
from conformance.run.stopping import RunStopped, stoppable
from conformance.stage.harness import prepare
from conformance.stage.partner import PartnerError
from conformance.text import printable
from mock_ims import AdminAPIError, __version__

SUITE_DIR = Path(__file__).parent / "suite"
DEFAULT_TIMEOUT_S = 300.0
REPORTS_ROOT = Path("conformance-report")


class UsageError(ValueError):
    """A bad selection or baseline (exit status 2)."""


@dataclass
class RunOptions:
    report_dir: Path
    only: list[str] | None = None
    skip: list[str] | None = None
    baseline: Path | None = None
    headed: bool = False
    progress: bool = True
    timeout: float | None = DEFAULT_TIMEOUT_S  # the whole run, in seconds; None: no bound
    step_timeout: float = STEP_TIMEOUT_S  # one step of the app (a page, a redirect), in seconds
    wait_for_mock: float = 0.0  # a shared mock leased to another run: wait this long for it


def new_report_dir(root: Path = REPORTS_ROOT) -> Path:
    """A report directory of this run's own, so runs side by side never share one; `latest`
    (a symlink, replaced atomically) points at the newest."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    root.mkdir(parents=True, exist_ok=True)
    for attempt in itertools.count(1):
        directory = root / (f"run-{stamp}-{os.getpid()}" + ("" if attempt == 1 else f"-{attempt}"))
        with contextlib.suppress(FileExistsError):
            directory.mkdir()
            break
    latest, temporary = root / "latest", root / f".latest-{os.getpid()}"
    with contextlib.suppress(OSError):  # a file system without symlinks: no `latest`, no harm
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(directory.name, target_is_directory=True)
        os.replace(temporary, latest)
    return directory


def select(only: list[str] | None, skip: list[str] | None) -> list[str]:
    known = [c.id for c in ordered()]
    for name, ids in (("--only", only or []), ("--skip", skip or [])):
        unknown = [i for i in ids if i not in REGISTRY]
        if unknown:
            raise UsageError(f"{name}: unknown check {unknown[0]!r}; see 'ims-conformance checks'")
    chosen = [i for i in known if not only or i in only]
    return [i for i in chosen if i not in (skip or [])]


def read_baseline(path: Path) -> set[str]:
    """Check ids expected to fail: a JSON list, or one id per line (`#` starts a comment)."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"--baseline {path}: cannot read ({exc.strerror})") from exc
    try:
        data = json.loads(text)
        ids = [str(i) for i in data] if isinstance(data, list) else None
    except json.JSONDecodeError:
        ids = None
    if ids is None:
        ids = [line.split("#", 1)[0].strip() for line in text.splitlines()]
        ids = [i for i in ids if i]
    unknown = [i for i in ids if i not in REGISTRY]
    if unknown:
        raise UsageError(f"--baseline {path}: unknown check {unknown[0]!r}")
    return set(ids)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def run(config: PartnerConfig, options: RunOptions) -> RunReport:
    selected = select(options.only, options.skip)
    baseline = read_baseline(options.baseline) if options.baseline else set()
    started_at, started = _now(), time.monotonic()
    report_dir = options.report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    _say(options, f"ims-conformance: {len(selected)} check(s) against {config.base_url}")

    def report(
        results: list[CheckResult], timeline: list[dict[str, Any]], mock_url: str, warnings: list[str]
    ) -> RunReport:
        return _report(
            config, options, report_dir, started_at, started, results, timeline, mock_url, warnings
        )

    with stoppable(options.timeout) as stop:
        try:
            harness = prepare(
                config, report_dir, step_timeout=options.step_timeout, wait_for_mock=options.wait_for_mock
            )
        except RunStopped as exc:
            return report(
                [_error(i, f"not judged: the run was stopped ({exc.reason})") for i in selected], [], "", []
            )
        except PartnerConfigError as exc:
            # Exit 2 with the key at fault; the reports still say why, for a CI job that publishes them.
            report([_error(i, f"set-up failed: {exc}") for i in selected], [], "", [])
            raise
        except (PartnerError, AdminAPIError, RuntimeError, OSError) as exc:
            # The suite cannot judge anything: every selected check is an ERROR that says why.
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            _say(options, f"ims-conformance: could not set up the run: {printable(str(exc)) or reason}")
            return report([_error(i, f"set-up failed: {reason}") for i in selected], [], "", [])
        config = harness.partner  # the port the app really got, for the report
        session = ConformanceSession(harness, selected, baseline, progress=options.progress)
        timeline: list[dict[str, Any]] = []
        try:
            for note in harness.notes:
                _say(options, f"  {printable(note, multiline=False)}")
            for warning in harness.warnings:
                _say(options, f"  warning: {printable(warning, multiline=False)}")
            _judge(session, report_dir, options)
            timeline = [
                e for e in harness.ims.journal.entries() if e.get("client_id") in (harness.client_id, None)
            ]
        except RunStopped:
            pass  # the clean-up below still runs; the checks not judged say why
        finally:
            harness.close()
        warnings = list(harness.warnings)
        if (lost := harness.lease_lost()) is not None:
            warnings.append(lost)
        _keep_traces_of_failures(report_dir, session.results)
        judged = {r.id for r in session.results}
        results: list[CheckResult] = list(session.results)
        missing = (
            f"not judged: the run was stopped ({stop.reason})"
            if stop.stopped
            else "the check did not run (see junit.xml)"
        )
        results += [_error(i, missing) for i in selected if i not in judged]
        if stop.stopped:
            _say(options, f"ims-conformance: {stop.reason}; the app was stopped and the reports written")
            warnings.append(f"the run did not finish: {stop.reason}")
        return report(results, timeline, harness.ims_url, warnings)


def _judge(session: ConformanceSession, report_dir: Path, options: RunOptions) -> None:
    """Run the selected checks through pytest (fixtures for the browser, junit.xml for CI)."""
    args = [
        str(SUITE_DIR / "test_conformance.py"),
        "-c",
        str(SUITE_DIR / "pytest.ini"),
        "--rootdir",
        str(SUITE_DIR),
        "-p",
        "no:terminal",
        "-p",
        "no:mock_ims",
        "--capture=no",  # progress lines go straight to the terminal
        f"--junitxml={report_dir / 'junit.xml'}",
        "--browser",
        "chromium",
    ]
    if options.headed:
        args.append("--headed")
    plugin = ConformancePlugin(session)

    class Register:
        def pytest_configure(self, config: pytest.Config) -> None:
            config.pluginmanager.register(plugin, PLUGIN_NAME)

    pytest.main(args, plugins=[Register()])  # a RunStopped inside ends pytest's session early


def _say(options: RunOptions, line: str) -> None:
    if options.progress:
        print(line, file=sys.stderr, flush=True)


def _keep_traces_of_failures(report_dir: Path, results: list[CheckResult]) -> None:
    """Playwright traces are kept for probes behind a FAIL, WARN or ERROR (retain-on-failure)."""
    troubled = {
        probe
        for r in results
        if r.verdict not in (Verdict.PASS, Verdict.SKIP)
        for probe in REGISTRY[r.id].probes
    }
    for trace in (report_dir / "traces").glob("*.zip"):
        if trace.stem not in troubled:
            trace.unlink()


def _error(check_id: str, summary: str) -> CheckResult:
    return result_of(REGISTRY[check_id], Verdict.ERROR, summary)


def _report(
    config: PartnerConfig,
    options: RunOptions,
    report_dir: Path,
    started_at: str,
    started: float,
    results: list[CheckResult],
    timeline: list[dict[str, Any]],
    mock_url: str,
    warnings: list[str] | None = None,
) -> RunReport:
    report = RunReport(
        partner=config.base_url,
        mock_url=mock_url,
        started=started_at,
        finished=_now(),
        results=results,
        timeline=timeline,
        suite_version=__version__,
        wall_time_s=time.monotonic() - started,
        warnings=warnings or [],
    )
    write_json(report, report_dir / "results.json")
    write_html(report, report_dir / "report.html")
    return report
