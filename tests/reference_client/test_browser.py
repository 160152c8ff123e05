"""End to end: a real Chromium, the reference client and the mock IMS on loopback sockets.

The reference client runs as its users run it (`python -m reference_client`, configured by
environment variables); one of it and one mock serve the whole module, and every test gets a
fresh browser context (pytest-playwright's `page`). The mock's admin API is the test's eyes:
its journal shows what reached IMS, its token list names every token it issued.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route

from mock_ims import MockIMS
from tests.helpers.processes import RunningProcess
from tests.reference_client.harness import code_id, presentations
from tests.reference_client.leaks import files_under, find_leaks
from tests.reference_client.processes import reference_client_process

pytestmark = pytest.mark.browser

ALICE = "alice@example.com"
DAY = 86_400


@dataclass
class App:
    url: str
    env: dict[str, str]
    process: RunningProcess

    @property
    def data_dir(self) -> Path:
        return Path(self.env["DATA_DIR"])

    @property
    def database(self) -> Path:
        return self.data_dir / "tokens.db"


@pytest.fixture(scope="module")
def ims() -> Iterator[MockIMS]:
    with MockIMS.running(port=0) as running:
        yield running


@pytest.fixture(scope="module")
def app(ims: MockIMS, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    client = ims.default_client
    env = {
        **os.environ,
        "IMS_BASE_URL": ims.url,
        "IMS_CLIENT_ID": client.client_id,
        "IMS_CLIENT_SECRET": client.client_secret or "",
        "LIGHTROOM_BASE_URL": ims.url,
        "DATA_DIR": str(tmp_path_factory.mktemp("reference-client")),  # no key given: a key file is made
    }
    with reference_client_process(env) as process:
        yield App(process.url, env, process)


@pytest.fixture(autouse=True)
def mock_time_restored(ims: MockIMS) -> Iterator[None]:
    """Tests that move the mock's clock put it back (ID tokens from the future are refused)."""
    yield
    ims.clock.reset()


def sign_in(page: Page, app: App, user: str = ALICE) -> None:
    page.goto(f"{app.url}/login")
    page.click(f'button[data-user="{user}"]')
    page.wait_for_url(f"{app.url}/profile")


def held_callback(page: Page, app: App, ims: MockIMS, user: str = ALICE) -> str:
    """Sign in at IMS, but keep the browser from following IMS back to the app; the callback URL.

    (Playwright does not route a request a redirect makes, so the login POST is routed instead.)
    """
    seen: list[str] = []

    def hold(route: Route) -> None:
        answer = route.fetch(max_redirects=0)
        seen.append(answer.headers["location"])
        route.fulfill(status=200, content_type="text/html", body="<p id=held>held</p>")

    page.route(f"{ims.url}/ims/login", hold)
    page.goto(f"{app.url}/login")
    page.click(f'button[data-user="{user}"]')
    page.wait_for_selector("#held")
    page.unroute(f"{ims.url}/ims/login")
    assert seen[0].startswith(f"{app.url}/callback?"), seen
    return seen[0]


def params_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def without(url: str, name: str) -> str:
    parts = urlsplit(url)
    kept = {k: v for k, v in params_of(url).items() if k != name}
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(kept)}"


def error_code(page: Page) -> str | None:
    return page.get_attribute("#error-message", "data-error-code")


def token_calls(ims: MockIMS, **match: Any) -> list[dict[str, Any]]:
    return [e for e in ims.journal.entries("token") if all(e.get(k) == v for k, v in match.items())]


def refresh_token_among(ims: MockIMS, issued: list[str]) -> str:
    kinds = {t["id"]: t["kind"] for t in ims.tokens.list(kind="refresh_token")}
    [refresh] = [token_id for token_id in issued if kinds.get(token_id) == "refresh_token"]
    return refresh


def test_signing_in_shows_the_ims_profile_and_the_lightroom_account(page: Page, app: App) -> None:
    sign_in(page, app)
    assert page.inner_text("#display-name") == "Alice Example"
    assert page.inner_text("#email") == ALICE
    assert page.inner_text("#lr-entitlement") == "subscriber"


def test_no_token_is_stored_in_any_encoding_nor_shown_to_the_browser(
    page: Page, app: App, ims: MockIMS
) -> None:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    sign_in(page, app)
    pages = [page.content()]
    ims.clock.advance(DAY)
    page.reload()  # a refresh: the rotated tokens are stored too
    assert page.inner_text("#email") == ALICE
    pages.append(page.content())
    tokens = ims.tokens.raw_values()
    assert len(tokens) >= 5  # code; access and refresh token; refreshed access and refresh token
    assert find_leaks(tokens, files_under(app.data_dir)) == []

    codes = set(ims.tokens.raw_values(kind="authorization_code"))  # a code travels in the callback URL
    secrets = [*tokens, app.env["IMS_CLIENT_SECRET"]]
    app_cookies = [c for c in page.context.cookies() if c["domain"] == "127.0.0.1" and c["path"] == "/"]
    assert [c["name"] for c in app_cookies] == ["rc_session"]
    assert app_cookies[0]["httpOnly"] and app_cookies[0]["sameSite"] == "Lax"
    browser_state = " ".join(c["value"] for c in page.context.cookies())
    browser_state += page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    log = app.process.text()
    assert "GET /profile 200" in log  # the access log is on, and shows paths only
    for secret in secrets:
        assert secret not in log
        assert secret not in browser_state
        assert all(secret not in text for text in pages)
        assert secret in codes or all(secret not in url for url in urls)


def test_a_forged_state_is_refused_and_the_attackers_code_never_redeemed(
    page: Page, app: App, ims: MockIMS
) -> None:
    minted = ims.tokens.mint("authorization_code", user=ALICE, redirect_uri=f"{app.url}/callback")
    page.goto(f"{app.url}/login")  # the victim has a session of their own
    page.goto(f"{app.url}/callback?{urlencode({'code': minted['token'], 'state': 'forged'})}")
    assert error_code(page) == "invalid_state"
    assert presentations(ims.journal.entries("token"), minted["id"]) == []
    page.goto(f"{app.url}/profile")
    assert page.url == f"{app.url}/"


def test_a_callback_without_state_is_refused_and_the_code_never_redeemed(
    page: Page, app: App, ims: MockIMS
) -> None:
    callback = held_callback(page, app, ims)
    page.goto(without(callback, "state"))
    assert error_code(page) == "invalid_state"
    assert presentations(ims.journal.entries("token"), code_id(params_of(callback)["code"])) == []


def test_a_replayed_callback_is_refused_and_the_code_redeemed_once(
    page: Page, app: App, ims: MockIMS
) -> None:
    callback = held_callback(page, app, ims)
    page.goto(callback)
    page.wait_for_url(f"{app.url}/profile")
    page.goto(callback)
    assert error_code(page) == "invalid_state"
    assert "already used" in page.inner_text("#error-message")
    assert len(presentations(ims.journal.entries("token"), code_id(params_of(callback)["code"]))) == 1


def test_a_state_from_another_browser_is_refused_and_the_code_never_redeemed(
    page: Page, browser: Browser, app: App, ims: MockIMS
) -> None:
    attacker = browser.new_context()
    try:
        callback = held_callback(attacker.new_page(), app, ims, user="bob@example.com")
    finally:
        attacker.close()
    page.goto(f"{app.url}/login")  # the victim's own session
    page.goto(callback)
    assert error_code(page) == "invalid_state"
    assert "another browser" in page.inner_text("#error-message")
    assert presentations(ims.journal.entries("token"), code_id(params_of(callback)["code"])) == []


def test_access_denied_shows_a_clear_page_and_no_token_is_asked_for(
    page: Page, app: App, ims: MockIMS
) -> None:
    before = len(ims.journal.entries("token"))
    page.goto(f"{app.url}/login")
    with page.expect_response(lambda r: r.url.startswith(f"{app.url}/callback")) as answer:
        page.click("#deny")
    assert answer.value.status == 403
    assert error_code(page) == "access_denied"
    assert page.is_visible("#home-link")
    assert len(ims.journal.entries("token")) == before


def test_after_the_access_token_expires_it_is_refreshed_with_the_rotated_refresh_token(
    page: Page, app: App, ims: MockIMS
) -> None:
    sign_in(page, app)
    [exchange] = token_calls(ims, grant_type="authorization_code", user_id=page_user_id(ims))[-1:]
    ims.clock.advance(DAY)
    page.reload()
    assert page.inner_text("#lr-entitlement") == "subscriber"
    ims.clock.advance(DAY)
    page.reload()
    assert page.inner_text("#display-name") == "Alice Example"
    first, second = token_calls(ims, grant_type="refresh_token")[-2:]
    assert first["consumed"] == refresh_token_among(ims, exchange["issued"])
    assert second["consumed"] == refresh_token_among(ims, first["issued"])
    assert (first["outcome"], second["outcome"]) == ("ok", "ok")


def page_user_id(ims: MockIMS, email: str = ALICE) -> str:
    return ims.users.get(email).user_id


def test_a_revoked_refresh_token_leads_back_to_sign_in(page: Page, app: App, ims: MockIMS) -> None:
    sign_in(page, app)
    ims.revoke(user=ALICE)
    ims.clock.advance(DAY)
    page.reload()
    assert page.url == f"{app.url}/?notice=session-ended"
    assert "sign in again" in page.inner_text("#notice")
    assert token_calls(ims, grant_type="refresh_token")[-1]["error"] == "invalid_grant"
    ims.clock.reset()  # an ID token issued a day ahead of the app's clock would be refused
    page.click("#sign-in")
    page.wait_for_url(lambda url: url.startswith(f"{ims.url}/ims/authorize") or url == f"{app.url}/profile")
    if page.url != f"{app.url}/profile":  # IMS asks again unless its own session still stands
        page.click(f'button[data-user="{ALICE}"]')
        page.wait_for_url(f"{app.url}/profile")
    assert page.inner_text("#email") == ALICE


def test_signing_out_revokes_the_tokens(page: Page, app: App, ims: MockIMS) -> None:
    sign_in(page, app)
    [exchange] = token_calls(ims, grant_type="authorization_code")[-1:]
    page.click("#sign-out")
    page.wait_for_url(f"{app.url}/?notice=signed-out")
    revocations = ims.journal.entries("revoke")[-2:]
    assert [e["outcome"] for e in revocations] == ["ok", "ok"]
    mine = {t["id"]: t for t in ims.tokens.list(user=ALICE)}
    assert all(mine[token_id]["revoked"] for token_id in exchange["issued"])
    page.goto(f"{app.url}/profile")
    assert page.url == f"{app.url}/"


def test_rotating_the_key_keeps_users_signed_in(page: Page, app: App, ims: MockIMS) -> None:
    sign_in(page, app)
    exchanges = len(token_calls(ims, grant_type="authorization_code"))
    result = subprocess.run(
        [sys.executable, "-m", "reference_client", "rotate-key"],
        env=app.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "retired keys:" in result.stdout
    page.reload()
    assert page.inner_text("#email") == ALICE
    assert len(token_calls(ims, grant_type="authorization_code")) == exchanges


def test_a_tampered_ciphertext_is_treated_as_logged_out(page: Page, app: App, ims: MockIMS) -> None:
    sign_in(page, app)
    with sqlite3.connect(app.database) as db:
        db.execute(
            "UPDATE tokens SET ciphertext = zeroblob(length(ciphertext)) WHERE user_id=?",
            (page_user_id(ims),),
        )
    page.reload()
    assert page.url == f"{app.url}/?notice=session-ended"
    assert page.is_visible("#sign-in")


def test_a_login_begun_on_localhost_finishes_on_the_registered_host(page: Page, app: App) -> None:
    page.goto(app.url.replace("127.0.0.1", "localhost") + "/login")
    page.click(f'button[data-user="{ALICE}"]')
    page.wait_for_url(f"{app.url}/profile")


def test_ims_being_down_gives_a_clear_page_and_the_user_stays_signed_in(
    page: Page, app: App, ims: MockIMS
) -> None:
    sign_in(page, app)
    ims.faults.scenario("ims-down")
    try:
        with page.expect_response(f"{app.url}/profile") as answer:
            page.reload()
        assert answer.value.status == 503
        assert error_code(page) == "service_unavailable"
    finally:
        ims.faults.clear()
    page.goto(f"{app.url}/profile")
    assert page.inner_text("#email") == ALICE
