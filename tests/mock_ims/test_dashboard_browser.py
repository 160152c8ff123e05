"""The dashboard in a real Chromium, against a real `mock-ims serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page

from mock_ims.protocol.pkce import s256
from tests.helpers.flows import CLIENT_ID, VERIFIER
from tests.helpers.processes import RunningProcess, mock_ims_process

pytestmark = pytest.mark.browser
CALLBACK = "http://localhost:8124/callback"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningProcess]:
    """A fresh mock per test: these tests move its clock and clear its journal."""
    with mock_ims_process(data_dir=tmp_path) as running:
        yield running


def log_in(page: Page, server: RunningProcess, user: str = "alice@example.com") -> None:
    """Sign in through the mock's login page; the partner's callback is answered in the browser."""
    page.route(
        f"{CALLBACK}**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<p id=done>back</p>"),
    )
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid,AdobeID,lr_partner_apis,offline_access",
        "response_type": "code",
        "state": "dashboard-state",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    page.goto(f"{server.url}/ims/authorize/v2?{urlencode(params)}")
    page.click(f'button[data-user="{user}"]')
    page.wait_for_selector("#done")


def press(page: Page, selector: str) -> None:
    """Click a dashboard button and wait for the page it redirects back to."""
    with page.expect_navigation():
        page.click(selector)


def journal_count(server: RunningProcess) -> int:
    count: int = httpx.get(f"{server.url}/__admin/journal").json()["count"]
    return count


def test_a_login_that_just_happened_shows_up_and_expands_to_its_parameters(
    page: Page, server: RunningProcess
) -> None:
    log_in(page, server)
    page.goto(f"{server.url}/")
    login = page.locator('details.entry[data-endpoint="login"]')
    assert login.count() == 1
    assert "alice@example.com" in login.locator("summary").inner_text()
    assert login.get_attribute("data-outcome") == "ok"

    authorize = page.locator('details.entry[data-endpoint="authorize"]')
    parameters = authorize.locator("table.params")
    assert not parameters.is_visible()
    authorize.locator("summary").click()
    assert parameters.is_visible()
    shown = parameters.inner_text()
    assert "dashboard-state" in shown
    assert CALLBACK in shown
    assert "S256" in shown

    code = page.locator('details.token[data-kind="authorization_code"]')
    assert code.get_attribute("data-status") == "live"
    code.locator("summary").click()
    assert '"type": "authorization_code"' in code.locator("pre").nth(1).inner_text()


def test_the_clock_buttons_move_the_mock_clock_and_codes_expire(page: Page, server: RunningProcess) -> None:
    log_in(page, server)
    page.goto(f"{server.url}/")
    assert float(page.inner_text("#clock-offset-seconds")) < 1
    code = 'details.token[data-kind="authorization_code"]'
    assert page.get_attribute(code, "data-status") == "live"

    press(page, "#advance-hour")
    assert round(float(page.inner_text("#clock-offset-seconds"))) == 3600
    assert page.get_attribute(code, "data-status") == "expired"  # codes live 10 minutes

    press(page, "#advance-day")
    assert round(float(page.inner_text("#clock-offset-seconds"))) == 3600 + 86_400

    page.fill("#advance-seconds", "-600")
    press(page, "#advance-custom")
    assert round(float(page.inner_text("#clock-offset-seconds"))) == 3600 + 86_400 - 600


def test_clear_journal_empties_it(page: Page, server: RunningProcess) -> None:
    log_in(page, server)
    page.goto(f"{server.url}/")
    assert page.locator("details.entry").count() >= 2
    assert journal_count(server) >= 2

    press(page, "#clear-journal")
    assert page.is_visible("#journal-empty")
    assert page.inner_text("#journal-count") == "0"
    assert journal_count(server) == 0


def test_the_journal_can_be_filtered_from_the_page(page: Page, server: RunningProcess) -> None:
    log_in(page, server)
    page.goto(f"{server.url}/")
    page.select_option("#filter-endpoint", "login")
    press(page, "#filter-apply")
    endpoints = page.locator("details.entry").evaluate_all("nodes => nodes.map(n => n.dataset.endpoint)")
    assert endpoints == ["login"]
    # a button pressed on the filtered view comes back to it
    press(page, "#advance-hour")
    assert page.url.endswith("/?endpoint=login")
