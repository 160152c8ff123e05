"""The summary table printed at the end of a run."""

from __future__ import annotations

from conformance.model import RunReport
from conformance.text import printable


def summary_table(report: RunReport) -> str:
    width = max((len(r.id) for r in report.results), default=10)
    lines = [
        f"{'check':<{width}}  verdict  severity     summary",
        f"{'-' * width}  -------  -----------  -------",
    ]
    for result in report.results:
        verdict = result.verdict.value + ("*" if result.baseline else "")
        lines.append(
            f"{result.id:<{width}}  {verdict:<7}  {result.severity.value:<11}  "
            f"{printable(result.summary[:100], multiline=False)}"
        )
    counts = ", ".join(f"{n} {v}" for v, n in report.counts().items() if n)
    lines.append("")
    lines.append(
        f"{counts} in {report.wall_time_s:.1f}s"
        + ("  (* expected by the baseline)" if any(r.baseline for r in report.results) else "")
    )
    lines += [f"warning: {printable(warning, multiline=False)}" for warning in report.warnings]
    lines.append("result: " + ("FAILED" if report.exit_status else "PASSED"))
    return "\n".join(lines)
