"""Partner apps with `https://ims-na1.adobelogin.com` and `https://lr.adobe.io` hard-coded sign in
against the mock unchanged: only their environment points them at the intercepting proxy, and
Chromium reaches the mock's login page at the real hostname through the same proxy.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserType, Page

from mock_ims import MockIMS
from mock_ims.tls.interception import Interception
from tests.helpers.processes import announced_process

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "unchanged"
PYTHON_APP = EXAMPLES / "python_app.py"
NODE_APP = EXAMPLES / "node-app"
APP_LINE = re.compile(r"partner app on (http://127\.0\.0\.1:\d+)")
IMS = "https://ims-na1.adobelogin.com"
CLIENT_ENV = {"IMS_CLIENT_ID": "mock-partner-app", "IMS_CLIENT_SECRET": "mock-partner-secret"}


@pytest.fixture(scope="module")
def proxied_browser(
    browser_type: BrowserType, browser_type_launch_args: dict[str, object], proxied_mock: MockIMS
) -> Iterator[Browser]:
    """Chromium trusting the local CA by its key hash (no `ignore_https_errors`)."""
    assert proxied_mock.interception is not None
    args = [*browser_type_launch_args.get("args", []), *proxied_mock.interception.chromium_args()]  # type: ignore[misc]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    yield browser
    browser.close()


@pytest.fixture
def page(proxied_browser: Browser, interception: Interception) -> Iterator[Page]:
    context = proxied_browser.new_context(proxy=interception.playwright_proxy())  # type: ignore[arg-type]
    yield context.new_page()
    context.close()


@contextmanager
def running_app(command: list[str], env: dict[str, str], cwd: Path) -> Iterator[str]:
    """Start an example app on a free port; its URL once it says it listens."""
    with announced_process(
        command, APP_LINE, what="the example app", env={**os.environ, **env}, cwd=cwd, timeout=30
    ) as app:
        yield app.url


def sign_in_and_see_the_profile(page: Page, app_url: str, proxied_mock: MockIMS) -> None:
    page.goto(f"{app_url}/login")
    assert page.url.startswith(f"{IMS}/ims/authorize/v2?"), page.url
    page.click('button[data-user="alice@example.com"]')
    page.wait_for_url(f"{app_url}/profile")
    assert page.inner_text("#name") == "Alice Example"
    assert page.inner_text("#email") == "alice@example.com"
    assert page.inner_text("#lightroom") == "alice@example.com"
    endpoints = [e["endpoint"] for e in proxied_mock.journal.entries() if e["outcome"] == "ok"]
    for endpoint in ("authorize", "login", "token", "profile", "lightroom.account"):
        assert endpoint in endpoints, endpoints
    # Chromium's own background calls (autofill, ...) are refused; nothing the app needed was.
    refused = {e["path"].rsplit(":", 1)[0] for e in proxied_mock.journal.entries(endpoint="proxy")}
    assert not refused & set(proxied_mock.interception.hosts if proxied_mock.interception else ())


def test_a_python_app_signs_in_through_the_proxy_unchanged(
    page: Page, interception: Interception, proxied_mock: MockIMS
) -> None:
    env = {**interception.environment(), **CLIENT_ENV}
    with running_app([sys.executable, str(PYTHON_APP), "--port", "0"], env, EXAMPLES) as url:
        sign_in_and_see_the_profile(page, url, proxied_mock)


@pytest.mark.node
def test_a_node_app_signs_in_through_the_proxy_unchanged(
    page: Page, interception: Interception, proxied_mock: MockIMS
) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_APP / "node_modules" / "undici").is_dir():
        pytest.fail(
            f"Node.js or the example's packages are missing: run scripts/install-system-deps ({NODE_APP})"
        )
    # Node 20's fetch ignores HTTPS_PROXY: the preload gives it undici's EnvHttpProxyAgent.
    env = {
        **interception.environment(),
        **CLIENT_ENV,
        "NODE_OPTIONS": f"--import={NODE_APP / 'use-env-proxy.mjs'}",
    }
    with running_app([node, "app.mjs", "--port", "0"], env, NODE_APP) as url:
        sign_in_and_see_the_profile(page, url, proxied_mock)


def test_with_a_dead_proxy_the_app_fails_cleanly_and_never_reaches_the_mock(
    page: Page, interception: Interception, proxied_mock: MockIMS
) -> None:
    # The control: the same app, with the hostnames resolved for real, never reaches the mock.
    # (No DNS here: the app's request fails at once; the browser leg still goes through the proxy.)
    env = {**CLIENT_ENV, "HTTPS_PROXY": "http://127.0.0.1:9", "SSL_CERT_FILE": str(interception.ca_path)}
    with running_app([sys.executable, str(PYTHON_APP), "--port", "0"], env, EXAMPLES) as url:
        page.goto(f"{url}/login")
        page.click('button[data-user="alice@example.com"]')
        page.wait_for_load_state("load")
        assert "Adobe sign-in is not available" in page.inner_text("body")
    assert [e["endpoint"] for e in proxied_mock.journal.entries() if e["endpoint"] == "token"] == []
