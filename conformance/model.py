"""What the suite produces: a verdict per check, with the evidence that led to it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"  # a requirement is not met
    WARN = "WARN"  # a recommended practice is missed
    SKIP = "SKIP"  # not applicable; the summary says why
    ERROR = "ERROR"  # the suite could not judge (partner unreachable, ...)

    @property
    def blocks(self) -> bool:
        """Whether this verdict fails the run (exit status 1)."""
        return self in (Verdict.FAIL, Verdict.ERROR)


class Severity(StrEnum):
    REQUIRED = "required"
    RECOMMENDED = "recommended"


@dataclass(frozen=True)
class Evidence:
    """One thing the suite saw. `kind` tells a report how to show `data`:

    - "journal": a list of mock journal entries
    - "url": a URL the browser was at
    - "screenshot": `path` is a PNG file in the report directory
    - "storage": where a token was found (`data`: list of findings)
    - "network": requests the browser made
    - "page": text of a page
    - "note": free text in `data`
    """

    kind: str
    title: str
    data: Any = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The areas a report groups its checks by, in this order.
AREAS = ("authorization", "state", "tokens", "refresh", "sessions", "storage", "browser", "lightroom")


@dataclass
class CheckResult:
    id: str
    verdict: Verdict
    summary: str
    requirement: str
    severity: Severity
    description: str
    expected: str = ""
    seen: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    duration_s: float = 0.0
    baseline: bool = False  # a failure the baseline file expects (does not fail the run)
    area: str = ""  # where a report groups it: one of AREAS
    fix: str = ""  # one line: what to change when it is not passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "requirement": self.requirement,
            "severity": self.severity.value,
            "description": self.description,
            "expected": self.expected,
            "seen": self.seen,
            "evidence": [e.to_dict() for e in self.evidence],
            "duration_s": round(self.duration_s, 3),
            "baseline": self.baseline,
            "area": self.area,
            "fix": self.fix,
        }


@dataclass
class RunReport:
    partner: str
    mock_url: str
    started: str
    finished: str
    results: list[CheckResult]
    timeline: list[dict[str, Any]] = field(default_factory=list)  # the mock's journal of the run
    suite_version: str = ""
    wall_time_s: float = 0.0
    warnings: list[str] = field(default_factory=list)  # about the run itself (not a check's verdict)

    @property
    def exit_status(self) -> int:
        return 1 if any(r.verdict.blocks and not r.baseline for r in self.results) else 0

    def counts(self) -> dict[str, int]:
        counts = {v.value: 0 for v in Verdict}
        for result in self.results:
            counts[result.verdict.value] += 1
        return counts
