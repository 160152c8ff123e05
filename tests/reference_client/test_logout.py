"""Signing out: POST with the session's CSRF token; tokens revoked at IMS, deleted, session ended."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.reference_client.harness import InProcess

pytestmark = pytest.mark.anyio


async def csrf_token(rc: InProcess, browser: httpx.AsyncClient | None = None) -> str:
    page = await (browser or rc.browser).get("/profile")
    match = re.search(r'name=csrf_token value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def test_signing_out_revokes_the_tokens_at_ims_and_forgets_them(rc: InProcess) -> None:
    await rc.sign_in()
    alice = rc.user_id("alice@example.com")
    response = await rc.browser.post("/logout", data={"csrf_token": await csrf_token(rc)})
    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=signed-out"
    revocations = await rc.journal(endpoint="revoke")
    assert [e["outcome"] for e in revocations] == ["ok", "ok"]
    assert all(e["auth"] == "basic" for e in revocations)
    live = [r for r in await rc.mock.ledger.all() if r.user_id == alice and r.kind != "authorization_code"]
    assert live and all(r.revoked_ms is not None for r in live)
    assert rc.components.token_store.sealed(alice) is None
    assert (await rc.browser.get("/profile")).headers["location"] == "/"
    assert "revoked" in (await rc.browser.get("/?notice=signed-out")).text


async def test_signing_out_ends_the_session_cookie(rc: InProcess) -> None:
    await rc.sign_in()
    cookie = rc.browser.cookies["rc_session"]
    response = await rc.browser.post("/logout", data={"csrf_token": await csrf_token(rc)})
    assert 'rc_session=""' in response.headers["set-cookie"]
    replayed = rc.new_browser()
    replayed.cookies.set("rc_session", cookie)
    assert (await replayed.get("/profile")).headers["location"] == "/"


@pytest.mark.parametrize("form", [{}, {"csrf_token": "guessed"}])
async def test_signing_out_without_the_csrf_token_is_refused(rc: InProcess, form: dict[str, str]) -> None:
    await rc.sign_in()
    response = await rc.browser.post("/logout", data=form)
    assert response.status_code == 403
    assert 'data-error-code="csrf"' in response.text
    assert await rc.journal(endpoint="revoke") == []
    assert (await rc.browser.get("/profile")).status_code == 200


async def test_another_sessions_csrf_token_does_not_sign_me_out(rc: InProcess) -> None:
    other = rc.new_browser()
    await rc.sign_in(user="bob@example.com", browser=other)
    await rc.sign_in()
    response = await rc.browser.post("/logout", data={"csrf_token": await csrf_token(rc, other)})
    assert response.status_code == 403


async def test_sign_out_is_post_only(rc: InProcess) -> None:
    await rc.sign_in()
    assert (await rc.browser.get("/logout")).status_code == 405
    assert (await rc.browser.get("/profile")).status_code == 200


async def test_signing_out_when_ims_is_down_still_signs_out_here(rc: InProcess) -> None:
    await rc.sign_in()
    token = await csrf_token(rc)
    del rc.hosts.transports["127.0.0.1:8765"]  # IMS is gone
    response = await rc.browser.post("/logout", data={"csrf_token": token})
    assert response.headers["location"] == "/?notice=signed-out-unrevoked"
    assert rc.components.token_store.user_ids() == []
    assert (await rc.browser.get("/profile")).headers["location"] == "/"
