"""report.html groups the checks by area, in a fixed order, and says how to fix what failed."""

from __future__ import annotations

from pathlib import Path

from markupsafe import escape

from conformance.checks import REGISTRY
from conformance.checks.base import result_of
from conformance.model import AREAS, RunReport, Verdict
from conformance.reports import write_html


def report_of(verdicts: dict[str, Verdict], tmp_path: Path) -> str:
    results = [
        result_of(REGISTRY[check_id], verdict, f"{check_id} said so")
        for check_id, verdict in verdicts.items()
    ]
    report = RunReport("http://127.0.0.1:8000", "http://127.0.0.1:8765", "start", "end", results)
    return write_html(report, tmp_path / "report.html").read_text("utf-8")


def test_every_check_has_an_area_and_a_one_line_fix() -> None:
    for check in REGISTRY.values():
        assert check.area in AREAS, check.id
        assert check.fix and "\n" not in check.fix, check.id


def test_checks_are_grouped_by_area_in_order_whatever_the_run_order(tmp_path: Path) -> None:
    html = report_of(
        {"storage.encrypted": Verdict.PASS, "state.present": Verdict.PASS, "idtoken.nonce": Verdict.SKIP},
        tmp_path,
    )
    sections = [html.index(f'id="area-{area}"') for area in ("state", "tokens", "storage")]
    assert sections == sorted(sections)
    assert 'id="area-refresh"' not in html  # no check of that area ran
    assert html.index('id="check-state.present"') < sections[1] < html.index('id="check-idtoken.nonce"')


def test_a_failed_or_warned_check_says_how_to_fix_it_and_a_passed_one_does_not(tmp_path: Path) -> None:
    html = report_of(
        {"state.verified": Verdict.FAIL, "pkce.s256": Verdict.WARN, "state.present": Verdict.PASS}, tmp_path
    )
    assert escape(REGISTRY["state.verified"].fix) in html
    assert escape(REGISTRY["pkce.s256"].fix) in html
    assert escape(REGISTRY["state.present"].fix) not in html
