"""`results.json`: one object per check (`id`, `verdict`, `summary`, `requirement`, `evidence`, ...)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.model import RunReport


def report_dict(report: RunReport) -> dict[str, Any]:
    return {
        "suite": "ims-conformance",
        "suite_version": report.suite_version,
        "partner": report.partner,
        "mock_url": report.mock_url,
        "started": report.started,
        "finished": report.finished,
        "wall_time_s": round(report.wall_time_s, 2),
        "counts": report.counts(),
        "exit_status": report.exit_status,
        "warnings": list(report.warnings),
        "results": [result.to_dict() for result in report.results],
    }


def write_json(report: RunReport, path: Path) -> Path:
    path.write_text(json.dumps(report_dict(report), indent=2, default=str) + "\n", "utf-8")
    return path
