"""`MockIMS` and `ImsClient`: the control plane as Python calls."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mock_ims import ImsClient, MockIMS
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI

AUTH = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture(scope="module")
def server() -> Iterator[MockIMS]:
    with MockIMS.running() as ims:
        yield ims


def test_running_serves_on_a_free_loopback_port(server: MockIMS) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert httpx.get(server.discovery_url).json()["issuer"] == server.url
    assert server.default_client.client_id == CLIENT_ID


def test_a_remote_ims_client_sees_the_same_mock(server: MockIMS) -> None:
    server.reset()
    with ImsClient(server.url) as remote:
        code = remote.mint_code(user="alice@example.com", redirect_uri=REDIRECT_URI)
        answer = httpx.post(
            f"{server.url}/ims/token/v3", data={"grant_type": "authorization_code", "code": code}, auth=AUTH
        )
        assert answer.status_code == 200
        assert [e["outcome"] for e in server.journal.entries(endpoint="token")] == ["ok"]
        remote.clock.advance(3600)
        assert server.clock.now()["offset_seconds"] == pytest.approx(3600, abs=1)
        assert {t["kind"] for t in remote.tokens.list(user="alice@example.com")} == {
            "authorization_code",
            "access_token",
            "refresh_token",
        }
        assert len(remote.revoke(user="alice@example.com")) == 3


def test_users_and_clients_through_the_handle(server: MockIMS) -> None:
    server.reset()
    dave = server.users.add("dave@example.com", "pw", first_name="Dave")
    assert server.users.get("dave@example.com").user_id == dave.user_id
    assert server.users.update(dave.user_id, last_name="D").last_name == "D"
    server.users.remove("dave@example.com")
    assert "dave@example.com" not in {u.email for u in server.users.list()}
    app = server.clients.add(
        "second", client_secret="s", scopes=["openid"], grant_types=["client_credentials"]
    )
    assert app.confidential
    assert {c.client_id for c in server.clients.list()} == {CLIENT_ID, "second"}


def test_the_app_runs_in_process_without_a_socket() -> None:
    ims = MockIMS()
    transport = httpx.ASGITransport(app=ims.app)

    async def fetch() -> int:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            response = await client.post(
                "/ims/token/v3", data={"grant_type": "client_credentials"}, auth=AUTH
            )
            return response.status_code

    import asyncio

    assert asyncio.run(fetch()) == 200


def test_a_mock_with_an_admin_token_needs_it_from_remote_clients() -> None:
    with MockIMS.running(admin_token="t0ken") as ims:
        assert ims.journal.entries() == []  # the handle sends its token
        with ImsClient(ims.url) as anonymous, pytest.raises(Exception, match="401"):
            anonymous.journal.entries()
