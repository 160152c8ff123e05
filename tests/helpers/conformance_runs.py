"""`ims-conformance run` as a partner's CI runs it: a subprocess, judged by its results.json."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The verdicts of an app that takes the user from userinfo or the profile and never validates
# the ID token (nor sends a nonce): the small apps written apart from the suite all do this.
ID_TOKEN_IGNORED = {
    "idtoken.signature": "WARN",
    "idtoken.audience": "WARN",
    "idtoken.issuer": "WARN",
    "idtoken.expiry": "WARN",
    "idtoken.nonce": "SKIP",
}

# An app that refreshes when IMS answers 401, before it calls Lightroom, never sends Lightroom an
# expired token: there is no 403 4300 to judge its answer to.
LIGHTROOM_NEVER_EXPIRED = {"lightroom.expired": "SKIP"}


@dataclass
class SuiteRun:
    process: subprocess.CompletedProcess[str]
    report: Path

    @property
    def results(self) -> dict[str, Any]:
        """results.json; a missing one fails the test with what the suite printed."""
        path = self.report / "results.json"
        assert path.is_file(), self.output()
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return data

    @property
    def verdicts(self) -> dict[str, str]:
        """Check id -> verdict; empty when the suite wrote no results.json."""
        if not (self.report / "results.json").is_file():
            return {}
        return {r["id"]: r["verdict"] for r in self.results["results"]}

    def output(self) -> str:
        return self.process.stdout + self.process.stderr


def run_conformance(config: Path, report: Path, *, cwd: Path | None = None) -> SuiteRun:
    process = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--config", str(config), "--report-dir", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        check=False,
    )
    return SuiteRun(process, report)
