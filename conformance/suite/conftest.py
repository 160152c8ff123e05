"""Fixtures of the conformance run: the browser this machine has, and the session."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser

from conformance.browser import launch_args
from conformance.plugin import PLUGIN_NAME, ConformancePlugin, ConformanceSession


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options plus the Chromium conformance.browser finds."""
    return {**browser_type_launch_args, **launch_args()}


@pytest.fixture(scope="session")
def conformance(request: pytest.FixtureRequest, browser: Browser) -> ConformanceSession:
    plugin = request.config.pluginmanager.get_plugin(PLUGIN_NAME)
    if not isinstance(plugin, ConformancePlugin):
        raise RuntimeError("run the conformance suite with 'ims-conformance run'")
    return plugin.start(browser)
