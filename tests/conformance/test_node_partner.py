"""The suite is language-agnostic: `ims-conformance run --config examples/node-partner.toml`
judges a partner app written in Node.js (standard library only) exactly as it judges the
Python reference client.

The Node app keeps its sessions and tokens in memory, so it declares no [storage]:
storage.written SKIPs (nothing to compare), and storage.encrypted scans only the app's log and
then SKIPs too (a clean log is no evidence that tokens are encrypted where they are kept). It
calls no Lightroom API, so both Lightroom checks SKIP. Every other check passes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conformance.checks import REGISTRY
from tests.helpers.conformance_runs import SuiteRun, run_conformance

pytestmark = [pytest.mark.browser, pytest.mark.node]
ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "node-partner.toml"

# It keeps tokens in memory and calls no Lightroom API: nothing at rest to scan, no call to judge.
EXPECTED_NOT_PASSED = {
    "storage.written": "SKIP",
    "storage.encrypted": "SKIP",
    "lightroom.api-key": "SKIP",
    "lightroom.expired": "SKIP",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    if shutil.which("node") is None:
        pytest.fail("Node.js is not installed (scripts/install-system-deps names what the tests need)")
    return run_conformance(EXAMPLE, tmp_path_factory.mktemp("node-partner") / "report")


def test_the_node_partner_passes_every_check_that_applies_to_it(run: SuiteRun) -> None:
    assert (run.report / "results.json").is_file(), run.output()
    verdicts = run.verdicts
    assert set(verdicts) == set(REGISTRY)
    assert {k: v for k, v in verdicts.items() if v != "PASS"} == EXPECTED_NOT_PASSED, run.process.stderr
    assert run.process.returncode == 0


def test_in_memory_tokens_leave_only_the_log_to_scan(run: SuiteRun) -> None:
    by_id = {r["id"]: r for r in run.results["results"]}
    assert "declares no [storage]" in by_id["storage.written"]["summary"]
    assert "no [storage] declared" in by_id["storage.encrypted"]["summary"]
    looked = next(e for e in by_id["storage.encrypted"]["evidence"] if e["title"] == "looked at")
    (place,) = looked["data"]["places"]
    assert place.startswith("file ") and "partner.log" in place
