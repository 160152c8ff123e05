"""Reports of a run: results.json, report.html (junit.xml comes from pytest), and the terminal summary."""

from __future__ import annotations

from conformance.reports.html import write_html
from conformance.reports.json import write_json
from conformance.reports.terminal import summary_table

__all__ = ["summary_table", "write_html", "write_json"]
