"""`report.html`: one self-contained page a person reads (screenshots inlined, no external assets).

The page is `templates/report.html`; this module gathers what it shows.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from conformance.model import AREAS, CheckResult, Evidence, RunReport

COLOURS = {"PASS": "#1e8e3e", "FAIL": "#d93025", "WARN": "#e37400", "SKIP": "#80868b", "ERROR": "#a142f4"}


@dataclass(frozen=True)
class JournalRow:
    time: str
    request: str
    outcome: str
    status: str
    why: str  # error and reason
    params: str  # masked by the mock's journal, cut to 400 characters


@dataclass(frozen=True)
class ShownEvidence:
    title: str
    kind: str  # "screenshot", "journal", "url" or "text"
    text: str = ""  # the URL, the text, or the screenshot's path in the report directory
    png: str | None = None  # the screenshot, base64; None when its file is missing
    rows: list[JournalRow] = field(default_factory=list)


@dataclass(frozen=True)
class ShownCheck:
    result: CheckResult
    colour: str
    evidence: list[ShownEvidence]


@dataclass(frozen=True)
class Area:
    name: str
    checks: list[ShownCheck]

    @property
    def verdicts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for check in self.checks:
            counts[check.result.verdict.value] = counts.get(check.result.verdict.value, 0) + 1
        return counts


def _by_area(checks: list[ShownCheck]) -> list[Area]:
    """The checks grouped by area, in AREAS order (a result of no known area last, as "other")."""
    known = [Area(name, [c for c in checks if c.result.area == name]) for name in AREAS]
    other = [c for c in checks if c.result.area not in AREAS]
    return [area for area in [*known, Area("other", other)] if area.checks]


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("conformance.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _journal_rows(entries: list[dict[str, Any]]) -> list[JournalRow]:
    rows = []
    for e in entries:
        params = ", ".join(f"{k}={v}" for k, v in (e.get("params") or {}).items())
        rows.append(
            JournalRow(
                time=str(e.get("time", "")),
                request=f"{e.get('method', '')} {e.get('endpoint', '')} {e.get('version', '') or ''}",
                outcome=str(e.get("outcome", "")),
                status=str(e.get("status", "")),
                why=f"{e.get('error') or ''} {e.get('reason') or ''}",
                params=params[:400],
            )
        )
    return rows


def _screenshot(report_dir: Path, relative: str) -> str | None:
    try:
        return base64.b64encode((report_dir / relative).read_bytes()).decode()
    except OSError:
        return None


def _evidence(item: Evidence, report_dir: Path) -> ShownEvidence:
    if item.kind == "screenshot":
        relative = item.path or ""
        png = _screenshot(report_dir, relative) if relative else None
        return ShownEvidence(item.title, "screenshot", relative, png)
    if item.kind == "journal" and isinstance(item.data, list):
        return ShownEvidence(item.title, "journal", rows=_journal_rows(item.data))
    if item.kind == "url":
        return ShownEvidence(item.title, "url", str(item.data))
    text = item.data if isinstance(item.data, str) else json.dumps(item.data, indent=2, default=str)
    return ShownEvidence(item.title, "text", text)


def write_html(report: RunReport, path: Path) -> Path:
    report_dir = path.parent
    counts = {verdict: n for verdict, n in report.counts().items() if n}
    checks = [
        ShownCheck(result, COLOURS[result.verdict.value], [_evidence(e, report_dir) for e in result.evidence])
        for result in report.results
    ]
    html = (
        _environment()
        .get_template("report.html")
        .render(
            report=report,
            status="FAILED" if report.exit_status else "PASSED",
            counts=counts,
            total=max(len(report.results), 1),
            colours=COLOURS,
            areas=_by_area(checks),
            timeline=_journal_rows(report.timeline),
        )
    )
    path.write_text(html, "utf-8")
    return path
