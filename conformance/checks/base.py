"""What a check is: an id, a severity, the requirement it enforces, and a judge of observations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conformance.model import AREAS, CheckResult, Evidence, Severity, Verdict
from conformance.storage.leaks import Finding


@dataclass
class Judgement:
    verdict: Verdict
    summary: str
    expected: str = ""
    seen: str = ""
    evidence: list[Evidence] = field(default_factory=list)


def passed(summary: str, **kwargs: Any) -> Judgement:
    return Judgement(Verdict.PASS, summary, **kwargs)


def failed(summary: str, **kwargs: Any) -> Judgement:
    return Judgement(Verdict.FAIL, summary, **kwargs)


def warned(summary: str, **kwargs: Any) -> Judgement:
    return Judgement(Verdict.WARN, summary, **kwargs)


def skipped(summary: str, **kwargs: Any) -> Judgement:
    return Judgement(Verdict.SKIP, summary, **kwargs)


def errored(summary: str, **kwargs: Any) -> Judgement:
    """The suite could not judge: what it needed to see did not happen for a reason of its own
    (a page that never answered, a place it could not read)."""
    return Judgement(Verdict.ERROR, f"could not judge: {summary}", **kwargs)


def missed(severity: Severity, summary: str, **kwargs: Any) -> Judgement:
    """FAIL for a required check, WARN for a recommended one."""
    return failed(summary, **kwargs) if severity is Severity.REQUIRED else warned(summary, **kwargs)


Judge = Callable[[Any], Judgement]


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    area: str  # one of conformance.model.AREAS
    requirement: str
    description: str
    fix: str  # one line: what a partner changes when the check is not passed
    probes: tuple[str, ...]
    judge: Judge


REGISTRY: dict[str, Check] = {}


def result_of(check: Check, verdict: Verdict, summary: str, **fields: Any) -> CheckResult:
    """A result of `check`, carrying what the check says of itself (requirement, area, fix)."""
    return CheckResult(
        id=check.id,
        verdict=verdict,
        summary=summary,
        requirement=check.requirement,
        severity=check.severity,
        description=check.description,
        area=check.area,
        fix=check.fix,
        **fields,
    )


def check(
    check_id: str,
    *,
    severity: Severity,
    area: str,
    fix: str,
    requirement: str,
    description: str,
    probes: tuple[str, ...],
) -> Callable[[Judge], Judge]:
    """Register a judge function as the check `check_id`."""

    def register(judge: Judge) -> Judge:
        if check_id in REGISTRY:
            raise ValueError(f"check {check_id} registered twice")
        if area not in AREAS:
            raise ValueError(f"check {check_id}: area {area!r} is not one of {', '.join(AREAS)}")
        REGISTRY[check_id] = Check(check_id, severity, area, requirement, description, fix, probes, judge)
        return judge

    return register


# ---- evidence helpers -------------------------------------------------------------------------

JOURNAL_FIELDS = (
    "seq",
    "time",
    "endpoint",
    "version",
    "method",
    "client_id",
    "grant_type",
    "params",
    "headers",
    "auth",
    "outcome",
    "status",
    "error",
    "reason",
    "notes",
    "issued",
    "consumed",
    "revoked",
    "fault",
)


def journal_evidence(title: str, entries: list[dict[str, Any]]) -> Evidence:
    return Evidence("journal", title, [{k: e.get(k) for k in JOURNAL_FIELDS} for e in entries])


def screenshot_evidence(title: str, path: str | None) -> list[Evidence]:
    return [Evidence("screenshot", title, path=path)] if path else []


def note(title: str, data: Any) -> Evidence:
    return Evidence("note", title, data)


def findings_evidence(title: str, findings: list[Finding]) -> Evidence:
    """Where secrets were found: which one (by label, never the value), how encoded, where."""
    return Evidence(
        "storage",
        title,
        [
            {"token": f.secret_label, "encoding": f.encoding, "location": f.location, "excerpt": f.excerpt}
            for f in findings
        ],
    )
