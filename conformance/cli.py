"""The `ims-conformance` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.browser.browsing import STEP_TIMEOUT_S
from conformance.checks import ordered
from conformance.config import PartnerConfigError, load
from conformance.run.runner import (
    DEFAULT_TIMEOUT_S,
    REPORTS_ROOT,
    RunOptions,
    UsageError,
    new_report_dir,
    run,
)
from mock_ims import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value <= 86_400 or value != value:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 (no limit) to 86400 seconds")
    return value


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ims-conformance",
        description="Judge a partner app's Adobe IMS integration in a real browser, against a mock IMS.",
        epilog="Exit status: 0 no check failed, 1 a check FAILed or ERRORed, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"ims-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run_parser = commands.add_parser(
        "run",
        help="run the checks against a partner app",
        description="Run the conformance checks against the partner app described by --config.",
    )
    run_parser.add_argument(
        "--config", required=True, type=Path, metavar="FILE", help="the partner description (TOML)"
    )
    run_parser.add_argument("--only", type=_ids, metavar="ID,...", help="run only these checks")
    run_parser.add_argument("--skip", type=_ids, metavar="ID,...", help="do not run these checks")
    run_parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="check ids expected to fail (one per line, or a JSON list)",
    )
    run_parser.add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        help="where results.json, junit.xml and report.html go (default: a new "
        f"{REPORTS_ROOT}/run-<time>-<pid> per run, with {REPORTS_ROOT}/latest pointing at the last one)",
    )
    run_parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help="stop the run after this long: the checks not judged are ERROR, the reports are still "
        "written and the app is stopped (default: %(default)g; 0: no limit)",
    )
    run_parser.add_argument(
        "--step-timeout",
        type=_seconds,
        default=STEP_TIMEOUT_S,
        metavar="SECONDS",
        help="how long the app has to answer one step (a page, a redirect) before the step counts "
        "as hung (default: %(default)g)",
    )
    run_parser.add_argument(
        "--wait-for-mock",
        type=_seconds,
        default=0,
        metavar="SECONDS",
        help="with [ims] url: when another run holds the shared mock, wait up to this long for it "
        "instead of stopping at once (default: %(default)g)",
    )
    run_parser.add_argument("--headed", action="store_true", help="show the browser while it runs")
    commands.add_parser("checks", help="list the checks: id, area, severity, what must hold, requirement")
    return parser


def list_checks() -> int:
    for check in ordered():
        print(f"{check.id:<24} {check.area:<13} {check.severity.value:<11} {check.description}")
        print(f"{'':<24} {'':<13} {'':<11} requirement: {check.requirement}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "checks":
        return list_checks()
    if args.command != "run":
        parser.print_help()
        return EXIT_USAGE
    try:
        config = load(args.config)
        options = RunOptions(
            report_dir=args.report_dir or new_report_dir(),
            only=args.only,
            skip=args.skip,
            baseline=args.baseline,
            headed=args.headed,
            timeout=args.timeout or None,
            step_timeout=args.step_timeout or STEP_TIMEOUT_S,
            wait_for_mock=args.wait_for_mock,
        )
        report = run(config, options)
    except (PartnerConfigError, UsageError) as exc:
        print(f"ims-conformance: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from conformance.reports import summary_table

    print(summary_table(report))
    print(f"reports: {options.report_dir / 'report.html'}, results.json, junit.xml")
    return report.exit_status


if __name__ == "__main__":
    sys.exit(main())
