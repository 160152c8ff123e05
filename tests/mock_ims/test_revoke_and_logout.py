"""`/ims/revoke` (RFC 7009) and `/ims/logout/v1` (front and back channel)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_ims.config import MockConfig
from mock_ims.state.context import Context
from mock_ims.state.sessions import SSO_COOKIE
from tests.helpers.clients import (
    OTHER_CLIENT_ID,
    OTHER_SECRET,
    PUBLIC_CLIENT_ID,
    PUBLIC_REDIRECT_URI,
    config_with_extra_clients,
)
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, VERIFIER, authorize_params, sign_in, tokens_for

pytestmark = pytest.mark.anyio
AUTH = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
def config() -> MockConfig:
    return config_with_extra_clients()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def last_entry(ctx: Context) -> dict[str, Any]:
    return (await ctx.journal.entries())[-1]


async def is_live(ims: httpx.AsyncClient, access_token: str) -> bool:
    response = await ims.get("/ims/userinfo/v2", headers=bearer(access_token))
    return response.status_code == 200


async def refreshes(ims: httpx.AsyncClient, refresh_token: str) -> bool:
    response = await ims.post(
        "/ims/token/v3", data={"grant_type": "refresh_token", "refresh_token": refresh_token}, auth=AUTH
    )
    return response.status_code == 200


# ---- revoke ------------------------------------------------------------------------------------


async def test_revoking_an_access_token_answers_200_with_no_body(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    response = await ims.post("/ims/revoke", data={"token": tokens["access_token"]}, auth=AUTH)
    assert response.status_code == 200
    assert response.content == b""
    assert not await is_live(ims, tokens["access_token"])
    # the refresh token of the same grant still works: only the access token was revoked
    assert await refreshes(ims, tokens["refresh_token"])


async def test_revoking_a_refresh_token_revokes_its_whole_family(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    tokens = await tokens_for(ims)
    response = await ims.post(
        "/ims/revoke", data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"}, auth=AUTH
    )
    assert response.status_code == 200
    assert response.content == b""
    assert not await is_live(ims, tokens["access_token"])
    assert not await refreshes(ims, tokens["refresh_token"])
    revoke_entry = next(e for e in await ims_context.journal.entries() if e["endpoint"] == "revoke")
    assert len(revoke_entry["revoked"]) == 3  # the code's family: code, access and refresh token


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"])
async def test_an_unknown_token_is_200_too(ims: httpx.AsyncClient, ims_context: Context, token: str) -> None:
    # RFC 7009 §2.2: invalid tokens do not cause an error response
    response = await ims.post("/ims/revoke", data={"token": token}, auth=AUTH)
    assert response.status_code == 200
    assert response.content == b""
    assert (await last_entry(ims_context))["reason"] == "not a token of this mock; nothing to revoke"


async def test_revoking_twice_is_200(ims: httpx.AsyncClient, ims_context: Context) -> None:
    tokens = await tokens_for(ims)
    for _ in range(2):
        assert (
            await ims.post("/ims/revoke", data={"token": tokens["access_token"]}, auth=AUTH)
        ).status_code == 200
    assert (await last_entry(ims_context))["reason"] == "already revoked"


async def test_a_client_cannot_revoke_another_clients_token(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    response = await ims.post(
        "/ims/revoke", data={"token": tokens["access_token"]}, auth=(OTHER_CLIENT_ID, OTHER_SECRET)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert await is_live(ims, tokens["access_token"])


async def test_revoke_needs_client_authentication(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    response = await ims.post(
        "/ims/revoke", data={"token": tokens["access_token"]}, auth=(CLIENT_ID, "wrong")
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"
    assert await is_live(ims, tokens["access_token"])


async def test_a_public_client_revokes_with_its_client_id(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims, client_id=PUBLIC_CLIENT_ID, redirect_uri=PUBLIC_REDIRECT_URI)
    tokens = (
        await ims.post(
            "/ims/token/v3",
            data={
                "grant_type": "authorization_code",
                "client_id": PUBLIC_CLIENT_ID,
                "code": callback.code,
                "code_verifier": VERIFIER,
            },
        )
    ).json()
    response = await ims.post(
        "/ims/revoke", params={"client_id": PUBLIC_CLIENT_ID}, data={"token": tokens["access_token"]}
    )
    assert response.status_code == 200
    assert not await is_live(ims, tokens["access_token"])


async def test_revoke_without_a_token_is_invalid_request(ims: httpx.AsyncClient) -> None:
    response = await ims.post("/ims/revoke", data={}, auth=AUTH)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "missing required parameter: token",
    }


async def test_revoke_takes_post_only(ims: httpx.AsyncClient) -> None:
    response = await ims.get("/ims/revoke", params={"token": "x"}, auth=AUTH)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


# ---- logout: front channel ---------------------------------------------------------------------


async def test_front_channel_logout_ends_the_session_and_redirects_to_a_registered_uri(
    ims: httpx.AsyncClient,
) -> None:
    tokens = await tokens_for(ims)
    assert ims.cookies.get(SSO_COOKIE)
    response = await ims.get(
        "/ims/logout/v1",
        params={
            "redirect_uri": "http://localhost:8000/signed-out",
            "client_id": CLIENT_ID,
            "access_token": tokens["access_token"],
        },
    )
    assert response.status_code == 302
    assert response.headers["location"] == "http://localhost:8000/signed-out"
    assert response.headers["cache-control"] == "no-store"
    assert not ims.cookies.get(SSO_COOKIE)
    assert not await is_live(ims, tokens["access_token"])
    assert not await refreshes(ims, tokens["refresh_token"])
    # no SSO any more: authorize shows the login page again
    page = await ims.get("/ims/authorize/v2", params=authorize_params())
    assert page.status_code == 200


async def test_front_channel_logout_finds_the_client_from_the_token(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    response = await ims.get(
        "/ims/logout/v1",
        params={"redirect_uri": "http://127.0.0.1:8000/bye", "access_token": tokens["access_token"]},
    )
    assert response.status_code == 302
    assert response.headers["location"] == "http://127.0.0.1:8000/bye"


@pytest.mark.parametrize(
    "params",
    [
        {"redirect_uri": "https://evil.example/", "client_id": CLIENT_ID},
        {"redirect_uri": "http://localhost@evil.example/", "client_id": CLIENT_ID},
        {"redirect_uri": "http://localhost:8000/bye"},  # no client to check it against
        {"redirect_uri": "http://localhost:8000/bye", "client_id": "nobody"},
    ],
)
async def test_logout_never_redirects_to_an_unregistered_uri(
    ims: httpx.AsyncClient, ims_context: Context, params: dict[str, str]
) -> None:
    response = await ims.get("/ims/logout/v1", params=params)
    assert response.status_code == 200
    assert "location" not in response.headers
    assert "You are signed out" in response.text
    assert "return address was not recognised" in response.text
    assert "logout_redirect_refused" in (await last_entry(ims_context))["notes"]


async def test_logout_without_a_redirect_shows_the_signed_out_page(ims: httpx.AsyncClient) -> None:
    await sign_in(ims)
    response = await ims.get("/ims/logout/v1")
    assert response.status_code == 200
    assert "You are signed out" in response.text
    assert not ims.cookies.get(SSO_COOKIE)


async def test_logout_with_a_dead_token_still_signs_out(ims: httpx.AsyncClient, ims_context: Context) -> None:
    response = await ims.get("/ims/logout/v1", params={"access_token": "garbage"})
    assert response.status_code == 200
    assert (
        "access_token_not_live: malformed or not signed by this mock"
        in (await last_entry(ims_context))["notes"]
    )


# ---- logout: back channel ----------------------------------------------------------------------


async def test_back_channel_logout_answers_an_empty_object_and_revokes(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    response = await ims.post(
        "/ims/logout/v1",
        data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "access_token": tokens["access_token"]},
    )
    assert response.status_code == 200
    assert response.json() == {}
    assert not await is_live(ims, tokens["access_token"])
    assert not await refreshes(ims, tokens["refresh_token"])


async def test_back_channel_logout_with_basic_and_a_bearer_token(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    # Basic for the client and the token as a parameter (only one Authorization header exists)
    response = await ims.post("/ims/logout/v1", data={"access_token": tokens["access_token"]}, auth=AUTH)
    assert response.json() == {}
    assert not await is_live(ims, tokens["access_token"])


async def test_back_channel_logout_needs_the_right_secret(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    response = await ims.post(
        "/ims/logout/v1",
        data={"client_id": CLIENT_ID, "client_secret": "wrong", "access_token": tokens["access_token"]},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"
    assert await is_live(ims, tokens["access_token"])


async def test_back_channel_logout_needs_an_access_token(ims: httpx.AsyncClient) -> None:
    response = await ims.post("/ims/logout/v1", data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "missing required parameter: access_token",
    }


async def test_back_channel_logout_of_another_clients_token_is_journalled(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    tokens = await tokens_for(ims)
    response = await ims.post(
        "/ims/logout/v1", data={"access_token": tokens["access_token"]}, auth=(OTHER_CLIENT_ID, OTHER_SECRET)
    )
    assert response.json() == {}
    assert "token_of_another_client" in (await last_entry(ims_context))["notes"]
