"""Fixtures of the conformance run: the browser this machine has, and the session."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserType

from conformance.browser.chromium import launch_args
from conformance.run.plugin import PLUGIN_NAME, ConformancePlugin, ConformanceSession


def _plugin(config: pytest.Config) -> ConformancePlugin:
    plugin = config.pluginmanager.get_plugin(PLUGIN_NAME)
    if not isinstance(plugin, ConformancePlugin):
        raise RuntimeError("run the conformance suite with 'ims-conformance run'")
    return plugin


@pytest.fixture(scope="session")
def browser_type_launch_args(
    request: pytest.FixtureRequest, browser_type_launch_args: dict[str, Any]
) -> dict[str, Any]:
    """pytest-playwright's launch options, the Chromium conformance.browser.chromium finds, and trust
    for the certificates of the app (`ca_file`) and the mock's proxy, and for no others."""
    args = {**browser_type_launch_args, **launch_args()}
    args["args"] = [*args.get("args", []), *_plugin(request.config).session.harness.chromium_args()]
    return args


@pytest.fixture(scope="session")
def conformance(
    request: pytest.FixtureRequest,
    browser: Browser,
    browser_type: BrowserType,
    browser_type_launch_args: dict[str, Any],
) -> Iterator[ConformanceSession]:
    relaunched: list[Browser] = []

    def relaunch() -> Browser:
        relaunched.append(browser_type.launch(**browser_type_launch_args))
        return relaunched[-1]

    yield _plugin(request.config).start(browser, relaunch)
    for spare in relaunched:
        with contextlib.suppress(Exception):
            spare.close()
