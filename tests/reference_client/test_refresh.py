"""Refreshing: on expiry or refusal, once per user however many requests, with rotation."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.reference_client.harness import InProcess

pytestmark = pytest.mark.anyio

DAY = 86_400


async def refreshes(rc: InProcess) -> list[dict[str, Any]]:
    return [e for e in await rc.journal(endpoint="token") if e["grant_type"] == "refresh_token"]


async def exchange_of_login(rc: InProcess) -> dict[str, Any]:
    [exchange] = [e for e in await rc.journal(endpoint="token") if e["grant_type"] == "authorization_code"]
    return exchange


async def refresh_token_id(issued: list[str], rc: InProcess) -> str:
    """Which of the issued token ids is the refresh token."""
    for token_id in issued:
        record = await rc.mock.ledger.get(token_id)
        if record is not None and record.kind == "refresh_token":
            return token_id
    raise AssertionError(f"no refresh token among {issued}")


async def profile_ok(rc: InProcess) -> None:
    response = await rc.browser.get("/profile")
    assert response.status_code == 200, response.text
    assert "Alice Example" in response.text


async def test_no_refresh_while_the_access_token_is_valid(rc: InProcess) -> None:
    await rc.sign_in()
    for _ in range(3):
        await profile_ok(rc)
    assert await refreshes(rc) == []


async def test_a_token_expired_by_its_own_clock_is_refreshed_before_use(rc: InProcess) -> None:
    await rc.sign_in()
    rc.clock.advance(DAY)  # only the client's clock: IMS would still accept the old token
    await profile_ok(rc)
    [refresh] = await refreshes(rc)
    assert refresh["outcome"] == "ok"
    assert refresh["auth"] == "basic"
    [profile_call] = await rc.journal(endpoint="profile")  # never called with the expired token
    assert profile_call["consumed"] in refresh["issued"]


async def test_a_token_the_api_refuses_is_refreshed_and_the_call_retried(rc: InProcess) -> None:
    await rc.sign_in()
    await rc.mock.clock.advance(DAY)  # IMS's clock: the client still believes its token valid
    await profile_ok(rc)
    [refresh] = await refreshes(rc)
    assert refresh["outcome"] == "ok"
    assert [e["outcome"] for e in await rc.journal(endpoint="profile")] == ["refused", "ok"]


async def test_the_rotated_refresh_token_is_the_one_used_next_time(rc: InProcess) -> None:
    await rc.sign_in()
    first_refresh_token = await refresh_token_id((await exchange_of_login(rc))["issued"], rc)
    await rc.mock.clock.advance(DAY)
    await profile_ok(rc)
    await rc.mock.clock.advance(DAY)
    await profile_ok(rc)
    first, second = await refreshes(rc)
    assert first["consumed"] == first_refresh_token
    assert second["consumed"] == await refresh_token_id(first["issued"], rc)
    assert second["outcome"] == "ok"


async def test_concurrent_requests_with_an_expired_token_share_one_refresh(rc: InProcess) -> None:
    await rc.sign_in()
    await rc.mock.clock.advance(DAY)
    statuses: list[int] = []

    async def load() -> None:
        statuses.append((await rc.browser.get("/profile")).status_code)

    async with anyio.create_task_group() as group:
        for _ in range(8):
            group.start_soon(load)
    assert statuses == [200] * 8
    assert len(await refreshes(rc)) == 1


async def test_concurrent_requests_expired_by_the_clients_clock_share_one_refresh(rc: InProcess) -> None:
    await rc.sign_in()
    rc.clock.advance(DAY)

    async with anyio.create_task_group() as group:
        for _ in range(8):
            group.start_soon(rc.components.tokens.access_token, rc.user_id("alice@example.com"))
    assert len(await refreshes(rc)) == 1


async def test_a_revoked_refresh_token_sends_the_user_to_sign_in_again(rc: InProcess) -> None:
    await rc.sign_in()
    alice = rc.user_id("alice@example.com")
    await rc.mock.ledger.revoke_where(await rc.mock.now_ms(), "revoked by the test", user_id=alice)
    await rc.mock.clock.advance(DAY)
    response = await rc.browser.get("/profile")
    assert response.status_code == 303
    assert response.headers["location"] == "/?notice=session-ended"
    assert 'rc_session=""' in response.headers["set-cookie"]
    [refresh] = await refreshes(rc)
    assert refresh["error"] == "invalid_grant"
    assert rc.components.token_store.sealed(alice) is None
    home = await rc.browser.get("/?notice=session-ended")
    assert "Please sign in again" in home.text
    assert "id=sign-in" in home.text


async def test_the_user_can_sign_in_again_after_the_grant_was_revoked(rc: InProcess) -> None:
    await rc.sign_in()
    await rc.mock.ledger.revoke_where(await rc.mock.now_ms(), "test", user_id=rc.user_id("alice@example.com"))
    rc.clock.advance(DAY)
    assert (await rc.browser.get("/profile")).status_code == 303
    assert (await rc.sign_in()).headers["location"] == "/profile"
    await profile_ok(rc)


async def test_a_refresh_answer_without_a_new_refresh_token_keeps_the_old_one(rc: InProcess) -> None:
    from reference_client.ims import IMSClient

    class NoRotation(IMSClient):
        async def refresh(self, refresh_token: str) -> dict[str, Any]:
            body = await super().refresh(refresh_token)
            self.used = refresh_token
            body.pop("refresh_token")
            return body

    ims = NoRotation(rc.settings, rc.components.http, rc.clock)
    rc.components.ims = rc.components.tokens.ims = ims
    await rc.sign_in()
    rc.clock.advance(DAY)
    await profile_ok(rc)
    stored = await rc.components.token_store.load(rc.user_id("alice@example.com"))
    assert stored is not None
    assert stored.tokens.refresh_token == ims.used
