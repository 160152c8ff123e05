"""The suite is language-agnostic: `ims-conformance run --config examples/node-partner.toml`
judges a partner app written in Node.js (standard library only) exactly as it judges the
Python reference client.

The Node app keeps its sessions and tokens in memory, so it declares no [storage]:
storage.written SKIPs (nothing to compare), storage.encrypted scans only the app's log.
Every other check passes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.checks import REGISTRY

pytestmark = [pytest.mark.browser, pytest.mark.node]
ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "node-partner.toml"

EXPECTED_NOT_PASSED = {"storage.written": "SKIP"}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    if shutil.which("node") is None:
        pytest.fail("Node.js is not installed (scripts/install-system-deps names what the tests need)")
    report = tmp_path_factory.mktemp("node-partner") / "report"
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--config", str(EXAMPLE), "--report-dir", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = report / "results.json"
    assert results.is_file(), result.stdout + result.stderr
    return result, json.loads(results.read_text("utf-8"))


def test_the_node_partner_passes_every_check_that_applies_to_it(
    run: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    result, data = run
    verdicts = {r["id"]: r["verdict"] for r in data["results"]}
    assert set(verdicts) == set(REGISTRY)
    assert {k: v for k, v in verdicts.items() if v != "PASS"} == EXPECTED_NOT_PASSED, result.stderr
    assert result.returncode == 0


def test_in_memory_tokens_leave_only_the_log_to_scan(
    run: tuple[subprocess.CompletedProcess[str], dict[str, Any]],
) -> None:
    _, data = run
    by_id = {r["id"]: r for r in data["results"]}
    assert "declares no [storage]" in by_id["storage.written"]["summary"]
    looked = next(e for e in by_id["storage.encrypted"]["evidence"] if e["title"] == "looked at")
    (place,) = looked["data"]["places"]
    assert place.startswith("file ") and "partner.log" in place
