"""The purge: what has expired is dropped (tokens after `retention_seconds`), by the earlier of the
mock's clock and real time, so clock games in tests never make a record vanish."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from mock_ims.config import MockConfig, default_config
from mock_ims.state import purge
from mock_ims.state.clock import real_ms
from mock_ims.state.context import Context
from tests.helpers.flows import open_login_page, sign_in

pytestmark = pytest.mark.anyio
DAY = 86_400
RETENTION = 3600


@pytest.fixture
def config() -> MockConfig:
    return replace(default_config(), retention_seconds=RETENTION, session_lifetime=600)


async def mint_access_token(ims: httpx.AsyncClient, lifetime: int) -> str:
    minted = await ims.post(
        "/__admin/tokens", json={"kind": "access_token", "user": "alice@example.com", "lifetime": lifetime}
    )
    token: str = minted.json()["token"]
    return token


def real_time_passes(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """As if `seconds` of real time had passed, for the purge's reading of real time."""
    later = real_ms() + seconds * 1000
    monkeypatch.setattr(purge, "real_ms", lambda: later)


async def userinfo_error(ims: httpx.AsyncClient, token: str) -> str:
    answer = await ims.get("/ims/userinfo/v2", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    description: str = answer.json()["error_description"]
    return description


async def test_moving_the_clock_far_forward_purges_nothing(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    token = await mint_access_token(ims, lifetime=60)
    await ims.post("/__admin/clock", json={"advance": 30 * DAY})
    assert await purge.purge_expired(ims_context) == 0
    assert await userinfo_error(ims, token) == "access token expired"


async def test_an_expired_token_is_kept_for_the_retention_then_dropped(
    ims: httpx.AsyncClient, ims_context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await mint_access_token(ims, lifetime=60)
    await ims.post("/__admin/clock", json={"advance": 60 + RETENTION - 5})
    real_time_passes(monkeypatch, 60 + RETENTION - 5)
    assert await purge.purge_expired(ims_context) == 0
    assert await userinfo_error(ims, token) == "access token expired"

    await ims.post("/__admin/clock", json={"advance": 10})
    real_time_passes(monkeypatch, 60 + RETENTION + 5)
    assert await purge.purge_expired(ims_context) == 1
    assert (
        await userinfo_error(ims, token)
        == "access token unknown to this mock (issued before a reset, or purged)"
    )


async def test_sessions_and_login_requests_go_when_they_expire(
    ims: httpx.AsyncClient, ims_context: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sign_in(ims)  # a session, a used login request and a code
    await open_login_page(ims, prompt="login")  # a login request still waiting
    counts = {kind: len(await ims_context.store.items(kind)) for kind in ("sessions", "requests", "tokens")}
    assert counts == {"sessions": 1, "requests": 2, "tokens": 1}

    later = max(ims_context.config.session_lifetime, ims_context.config.login_request_lifetime) + 1
    await ims.post("/__admin/clock", json={"advance": later})
    real_time_passes(monkeypatch, later)
    assert await purge.purge_expired(ims_context) == 3
    assert await ims_context.store.items("sessions") == []
    assert await ims_context.store.items("requests") == []
    assert len(await ims_context.store.items("tokens")) == 1  # the code: still within its retention


async def test_the_stats_count_what_the_store_holds(ims: httpx.AsyncClient) -> None:
    await mint_access_token(ims, lifetime=60)
    figures = (await ims.get("/__admin/stats")).json()
    assert figures["documents"]["tokens"] == 1
    assert figures["documents"]["users"] == 3
    assert figures["journal_limit"] == 10_000
    assert figures["process"]["rss_bytes"] > 0
