"""`ims-conformance run --config examples/reference-client.toml`: the suite's known-good control.

Every check passes on the reference client, and the reports are well formed: results.json
against its published schema, junit.xml as JUnit XML, report.html in a real Chromium.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from playwright.sync_api import Page

from conformance.checks import REGISTRY

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[2]
SCHEMA = ROOT / "conformance" / "reports" / "results.schema.json"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[subprocess.CompletedProcess[str], Path]]:
    report = Path(tmp_path_factory.mktemp("conformance")) / "report"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "--config",
            str(ROOT / "examples" / "reference-client.toml"),
            "--report-dir",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    yield result, report


def results(report: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report / "results.json").read_text())
    return data


def test_every_check_passes_on_the_reference_client(
    run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, report = run
    assert (report / "results.json").is_file(), result.stdout + result.stderr
    verdicts = {r["id"]: r["verdict"] for r in results(report)["results"]}
    assert verdicts == dict.fromkeys(REGISTRY, "PASS"), result.stdout + result.stderr
    assert result.returncode == 0
    assert "result: PASSED" in result.stdout


def test_progress_is_shown_as_checks_run(run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    result, _ = run
    for check_id in REGISTRY:
        assert f" {check_id} " in result.stderr or f" {check_id}  " in result.stderr


def test_results_json_follows_its_schema(run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, report = run
    jsonschema.validate(results(report), json.loads(SCHEMA.read_text()))


def test_junit_xml_has_one_testcase_per_check(run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, report = run
    root = ET.parse(report / "junit.xml").getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert len(cases) == len(REGISTRY) == int(suite.attrib["tests"])
    assert int(suite.attrib["failures"]) == int(suite.attrib["errors"]) == 0
    for case in cases:
        assert case.attrib["name"] and case.attrib["classname"] and float(case.attrib["time"]) >= 0
        assert not case.findall("failure") and not case.findall("error")


def test_the_html_report_shows_every_check(
    page: Page, run: tuple[subprocess.CompletedProcess[str], Path]
) -> None:
    _, report = run
    page.goto((report / "report.html").as_uri())
    assert page.inner_text("#status") == "PASSED"
    for check_id in REGISTRY:
        verdict = page.get_attribute(f'[id="check-{check_id}"]', "data-verdict")
        assert verdict == "PASS", check_id
