"""One test per conformance check; the plugin parametrizes `check_id` with the selection."""

from __future__ import annotations

from conformance.run.plugin import ConformanceSession


def test_check(check_id: str, conformance: ConformanceSession) -> None:
    conformance.judge(check_id)
