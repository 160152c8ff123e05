"""A real Chromium signs in through the login page of a real `mock-ims serve` process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Page, Route

from mock_ims.protocol.pkce import s256
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, VERIFIER, query_of
from tests.helpers.processes import RunningProcess, mock_ims_process

pytestmark = pytest.mark.browser
CALLBACK = "http://localhost:8123/callback"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    with mock_ims_process(data_dir=Path(tmp_path_factory.mktemp("mock-ims"))) as running:
        yield running


def authorize_url(server: RunningProcess, **extra: str) -> str:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid,AdobeID,lr_partner_apis,offline_access",
        "response_type": "code",
        "state": "browser-state",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{server.url}/ims/authorize/v2?{urlencode(params)}"


def catch_callback(page: Page) -> list[str]:
    """Answer the partner's callback URL in the browser and remember where it landed."""
    seen: list[str] = []

    def handle(route: Route) -> None:
        seen.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p id=done>callback reached</p>")

    page.route(f"{CALLBACK}**", handle)
    return seen


def test_a_user_clicks_a_test_user_and_the_code_is_redeemed(page: Page, server: RunningProcess) -> None:
    seen = catch_callback(page)
    page.goto(authorize_url(server))
    page.click('button[data-user="alice@example.com"]')
    page.wait_for_selector("#done")
    params = query_of(seen[0])
    assert params["state"] == "browser-state"
    response = httpx.post(
        f"{server.url}/ims/token/v3",
        data={"grant_type": "authorization_code", "code": params["code"], "code_verifier": VERIFIER},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    assert response.status_code == 200
    assert "refresh_token" in response.json()


def test_email_and_password_sign_in_and_a_wrong_password_shows_an_error(
    page: Page, server: RunningProcess
) -> None:
    seen = catch_callback(page)
    page.goto(authorize_url(server))
    page.fill("#email", "bob@example.com")
    page.fill("#password", "wrong")
    page.click("#allow")
    assert "Wrong email or password" in page.inner_text("#error")
    page.fill("#password", "bob-pass")
    page.click("#allow")
    page.wait_for_selector("#done")
    assert "code" in query_of(seen[0])


def test_deny_sends_access_denied_with_the_state(page: Page, server: RunningProcess) -> None:
    seen = catch_callback(page)
    page.goto(authorize_url(server))
    page.click("#deny")
    page.wait_for_selector("#done")
    params = query_of(seen[0])
    assert params["error"] == "access_denied"
    assert params["state"] == "browser-state"


def test_login_hint_preselects_the_user(page: Page, server: RunningProcess) -> None:
    page.goto(authorize_url(server, login_hint="carol@example.com"))
    assert page.input_value("#email") == "carol@example.com"
    assert "hinted" in (page.get_attribute('button[data-user="carol@example.com"]', "class") or "")


def test_the_login_page_cannot_be_framed(server: RunningProcess) -> None:
    response = httpx.get(authorize_url(server))
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
