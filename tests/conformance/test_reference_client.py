"""`ims-conformance run --config examples/reference-client.toml`: the suite's known-good control.

Every check passes on the reference client, and the reports are well formed: results.json
against its published schema, junit.xml as JUnit XML, report.html in a real Chromium.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from playwright.sync_api import Page

from conformance.checks import REGISTRY
from tests.helpers.conformance_runs import SuiteRun, run_conformance

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parents[2]
SCHEMA = ROOT / "conformance" / "reports" / "results.schema.json"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    report = Path(tmp_path_factory.mktemp("conformance")) / "report"
    return run_conformance(ROOT / "examples" / "reference-client.toml", report)


def test_every_check_passes_on_the_reference_client(run: SuiteRun) -> None:
    assert (run.report / "results.json").is_file(), run.output()
    assert run.verdicts == dict.fromkeys(REGISTRY, "PASS"), run.output()
    assert run.process.returncode == 0
    assert "result: PASSED" in run.process.stdout


def test_progress_is_shown_as_checks_run(run: SuiteRun) -> None:
    for check_id in REGISTRY:
        assert f" {check_id} " in run.process.stderr or f" {check_id}  " in run.process.stderr


def test_results_json_follows_its_schema(run: SuiteRun) -> None:
    jsonschema.validate(run.results, json.loads(SCHEMA.read_text()))


def test_junit_xml_has_one_testcase_per_check(run: SuiteRun) -> None:
    root = ET.parse(run.report / "junit.xml").getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert len(cases) == len(REGISTRY) == int(suite.attrib["tests"])
    assert int(suite.attrib["failures"]) == int(suite.attrib["errors"]) == 0
    for case in cases:
        assert case.attrib["name"] and case.attrib["classname"] and float(case.attrib["time"]) >= 0
        assert not case.findall("failure") and not case.findall("error")


def test_the_html_report_shows_every_check(page: Page, run: SuiteRun) -> None:
    page.goto((run.report / "report.html").as_uri())
    assert page.inner_text("#status") == "PASSED"
    for check_id in REGISTRY:
        verdict = page.get_attribute(f'[id="check-{check_id}"]', "data-verdict")
        assert verdict == "PASS", check_id
