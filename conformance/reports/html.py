"""`report.html`: one self-contained page a person reads (screenshots inlined, no external assets)."""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

from conformance.model import CheckResult, Evidence, RunReport

COLOURS = {"PASS": "#1e8e3e", "FAIL": "#d93025", "WARN": "#e37400", "SKIP": "#80868b", "ERROR": "#a142f4"}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#202124}
header{background:#fff;padding:1.25rem 2rem;border-bottom:1px solid #ddd}
h1{font-size:1.4rem;margin:0 0 .4rem}
.meta{color:#5f6368;font-size:.9rem}
.bar{display:flex;height:14px;border-radius:7px;overflow:hidden;margin:.8rem 0;max-width:40rem}
.counts span{margin-right:1rem;font-weight:600}
main{padding:1rem 2rem;max-width:80rem}
details.check{background:#fff;border:1px solid #ddd;border-left:6px solid var(--c);border-radius:6px;margin:.5rem 0;padding:.5rem 1rem}
details.check summary{cursor:pointer;display:flex;gap:1rem;align-items:baseline}
.verdict{font-weight:700;color:var(--c);min-width:3.5rem}
.id{font-family:ui-monospace,monospace;font-weight:600;min-width:14rem}
.sev{color:#5f6368;font-size:.8rem}
dl{display:grid;grid-template-columns:9rem 1fr;gap:.3rem 1rem}
dt{color:#5f6368}
dd{margin:0}
pre{background:#f1f3f4;padding:.6rem;overflow:auto;font-size:.8rem;max-height:24rem}
img{max-width:100%;border:1px solid #ccc;margin:.4rem 0}
table{border-collapse:collapse;font-size:.8rem;width:100%}
td,th{border-bottom:1px solid #e0e0e0;padding:.25rem .5rem;text-align:left;vertical-align:top}
.refused{color:#d93025}.fault{color:#a142f4}
.warnings{background:#fef7e0;border:1px solid #f9ab00;border-radius:6px;padding:.5rem 1rem;margin:.6rem 0;max-width:60rem}
"""


def _image(report_dir: Path, relative: str | None) -> str:
    if not relative:
        return ""
    path = report_dir / relative
    try:
        data = base64.b64encode(path.read_bytes()).decode()
    except OSError:
        return f"<p>(screenshot {escape(relative)} missing)</p>"
    return f'<img alt="{escape(relative)}" src="data:image/png;base64,{data}">'


def _evidence(item: Evidence, report_dir: Path) -> str:
    title = f"<h4>{escape(item.title)}</h4>"
    if item.kind == "screenshot":
        return title + _image(report_dir, item.path)
    if item.kind == "journal" and isinstance(item.data, list):
        return title + _journal_table(item.data)
    if item.kind == "url":
        return title + f"<p><code>{escape(str(item.data))}</code></p>"
    text = item.data if isinstance(item.data, str) else json.dumps(item.data, indent=2, default=str)
    return title + f"<pre>{escape(text)}</pre>"


def _journal_table(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return "<p>(none)</p>"
    rows = []
    for e in entries:
        outcome = str(e.get("outcome", ""))
        params = ", ".join(f"{k}={v}" for k, v in (e.get("params") or {}).items())
        rows.append(
            f"<tr><td>{escape(str(e.get('time', '')))}</td><td>{escape(str(e.get('method', '')))} "
            f"{escape(str(e.get('endpoint', '')))} {escape(str(e.get('version', '') or ''))}</td>"
            f"<td class={escape(outcome)}>{escape(outcome)} {escape(str(e.get('status', '')))}</td>"
            f"<td>{escape(str(e.get('error') or ''))} {escape(str(e.get('reason') or ''))}</td>"
            f"<td><code>{escape(params[:400])}</code></td></tr>"
        )
    head = "<tr><th>time</th><th>request</th><th>outcome</th><th>error / reason</th><th>parameters (masked)</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _check(result: CheckResult, report_dir: Path) -> str:
    colour = COLOURS[result.verdict.value]
    baseline = " (expected by the baseline)" if result.baseline else ""
    evidence = "".join(_evidence(e, report_dir) for e in result.evidence)
    open_attr = " open" if result.verdict.value in ("FAIL", "ERROR") else ""
    return f"""
<details class=check id="check-{escape(result.id)}" data-verdict="{result.verdict.value}" style="--c:{colour}"{open_attr}>
<summary><span class=verdict>{result.verdict.value}</span><span class=id>{escape(result.id)}</span>
<span>{escape(result.summary)}{escape(baseline)}</span> <span class=sev>{result.severity.value}</span></summary>
<dl><dt>What must hold</dt><dd>{escape(result.description)}</dd>
<dt>Requirement</dt><dd>{escape(result.requirement)}</dd>
<dt>Expected</dt><dd>{escape(result.expected or "-")}</dd>
<dt>Seen</dt><dd>{escape(result.seen or result.summary)}</dd></dl>
{evidence}
</details>"""


def write_html(report: RunReport, path: Path) -> Path:
    report_dir = path.parent
    counts = report.counts()
    total = max(len(report.results), 1)
    bar = "".join(
        f'<span title="{n} {v}" style="width:{100 * n / total:.2f}%;background:{COLOURS[v]}"></span>'
        for v, n in counts.items()
        if n
    )
    count_html = "".join(f'<span style="color:{COLOURS[v]}">{n} {v}</span>' for v, n in counts.items() if n)
    status = "FAILED" if report.exit_status else "PASSED"
    checks = "".join(_check(r, report_dir) for r in report.results)
    timeline = _journal_table(report.timeline)
    warnings = "".join(f"<li>{escape(w)}</li>" for w in report.warnings)
    warning_html = f"<ul class=warnings id=warnings>{warnings}</ul>" if warnings else ""
    html = f"""<!doctype html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width,initial-scale=1">
<title>IMS conformance: {escape(status)} for {escape(report.partner)}</title><style>{STYLE}</style></head>
<body><header><h1>IMS conformance report: <span id=status>{status}</span></h1>
<div class=meta>Partner <code>{escape(report.partner)}</code> against mock IMS <code>{escape(report.mock_url)}</code>,
{escape(report.started)} to {escape(report.finished)} ({report.wall_time_s:.1f}s), ims-conformance {escape(report.suite_version)}</div>
<div class=bar id=summary-bar>{bar}</div><div class=counts>{count_html}</div>{warning_html}</header>
<main><h2>Checks</h2>{checks}
<h2>Request timeline</h2><p>Every request the mock IMS answered for the partner during the run.</p>
<details id=timeline><summary>{len(report.timeline)} requests</summary>{timeline}</details></main></body></html>"""
    path.write_text(html, "utf-8")
    return path
