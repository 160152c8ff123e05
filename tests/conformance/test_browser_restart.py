"""A browser that goes away under a probe is restarted once, the probe run again, and the
report says so; a second loss is the probe's ERROR, not an endless loop."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserType

from conformance.journeys import observations as observations_module
from conformance.journeys.observations import Observations, ProbeFailed

pytestmark = pytest.mark.browser


class Harness(SimpleNamespace):
    def close_sessions(self) -> None:
        self.closed_sessions += 1


def observe(browser_type: BrowserType, launch_args: dict[str, Any]) -> tuple[Observations, Harness]:
    harness = Harness(warnings=[], process=None, closed_sessions=0)
    seen = Observations(harness, browser_type.launch(**launch_args))  # type: ignore[arg-type]
    seen.relaunch = lambda: browser_type.launch(**launch_args)
    return seen, harness


def crashing_probe(crashes: int) -> tuple[list[Browser], Any]:
    used: list[Browser] = []

    def probe(harness: Any, browser: Browser) -> str:
        used.append(browser)
        page = browser.new_page()
        if len(used) <= crashes:
            browser.close()  # the browser is gone mid-probe, as after a crash
            page.goto("about:blank")  # what the probe was doing: raises "Target ... closed"
        page.goto("data:text/html,<p>seen</p>")
        return page.inner_text("p")

    return used, probe


def test_a_browser_lost_under_a_probe_is_restarted_once_and_said(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    used, probe = crashing_probe(crashes=1)
    monkeypatch.setitem(observations_module.PROBES, "login", probe)
    seen, harness = observe(browser_type, browser_type_launch_args)

    assert seen.get("login") == "seen"
    assert len(used) == 2 and used[0] is not used[1]
    assert harness.warnings == ["the browser crashed during the login probe and was restarted once"]
    assert harness.closed_sessions == 2  # what the crashed attempt left open was closed too
    seen.browser.close()  # type: ignore[union-attr]


def test_a_second_loss_is_the_probes_error(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    used, probe = crashing_probe(crashes=2)
    monkeypatch.setitem(observations_module.PROBES, "login", probe)
    seen, _ = observe(browser_type, browser_type_launch_args)

    with pytest.raises(ProbeFailed, match="probe login could not run"):
        seen.get("login")
    assert len(used) == 2
