"""`nox -s bench -- --quick` keeps working: the harness starts mock-ims and a Node peer,
drives every scenario with wrk, and writes the table as JSON and Markdown.

It measures nothing worth keeping (one second per scenario) and asserts no timing: only that
every server answered every scenario without errors and the report holds what it should.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MISSING = [tool for tool in ("wrk", "node", "npm") if shutil.which(tool) is None]

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(
        bool(MISSING),
        reason=f"the benchmark needs {', '.join(MISSING)} (wrk: apt-get install wrk; node and npm: Node.js 20.19+)",
    ),
]

# One mock set-up, one peer and one pool scenario (refresh_token goes the same way as
# authorization_code) keep this test short; `nox -s bench -- --quick` runs everything.
SERVERS = ("mock-ims-2w", "oidc-provider")
SCENARIOS = ("client_credentials", "authorization_code")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--servers",
            ",".join(SERVERS),
            "--scenarios",
            ",".join(SCENARIOS),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result, out


def test_the_quick_run_succeeds_and_prints_the_table(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    result, _ = quick_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| scenario | server | req/s |" in result.stdout
    for scenario in SCENARIOS:
        assert f"| {scenario} | mock-ims-2w |" in result.stdout


def test_every_server_answered_every_scenario_without_errors(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    report = json.loads((out / "quick.json").read_text())
    answered = {(r["server"], r["scenario"]): r for r in report["results"]}
    assert set(answered) == {(server, scenario) for server in SERVERS for scenario in SCENARIOS}
    for (server, scenario), result in answered.items():
        assert result["requests"] > 0, (server, scenario)
        assert result["errors"] == 0, (server, scenario, result["error_detail"])


def test_the_report_has_the_ceiling_start_up_ratios_and_targets(
    quick_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = quick_run
    report = json.loads((out / "quick.json").read_text())
    assert report["ceiling"]["per_core"] > 0
    assert report["startup"]["ready_s"]
    mock_cc = next(
        r for r in report["results"] if r["server"] == "mock-ims-2w" and r["scenario"] == "client_credentials"
    )
    assert mock_cc["ratio_vs_oidc-provider"] > 0
    assert any(t["target"].startswith("mock-ims serve: time to ready") for t in report["targets"])
    assert (out / "quick.md").read_text().startswith("# mock-ims benchmark")
