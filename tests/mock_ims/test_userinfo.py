"""`/ims/userinfo/v2` (v1, unversioned), `/ims/profile/v1` and `/ims/validate_token/v1`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_ims.state.context import Context
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, tokens_for

pytestmark = pytest.mark.anyio
RESOURCES = ["/ims/userinfo/v2", "/ims/userinfo/v1", "/ims/userinfo", "/ims/profile/v1"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def last_entry(ctx: Context) -> dict[str, Any]:
    return (await ctx.journal.entries())[-1]


def assert_invalid_token(response: httpx.Response, description: str) -> None:
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token", "error_description": description}
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="ims", error="invalid_token"')


# ---- what they answer ----------------------------------------------------------------------------


async def test_userinfo_answers_the_claims_the_scopes_release(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims, scope="openid,email")
    response = await ims.get("/ims/userinfo/v2", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.json() == {"sub": tokens["sub"], "email_verified": True, "email": "alice@example.com"}
    assert response.headers["cache-control"] == "no-store"


async def test_userinfo_with_profile_scope(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims, scope="openid,profile", user="bob@example.com")
    info = (await ims.get("/ims/userinfo/v2", headers=bearer(tokens["access_token"]))).json()
    assert info == {
        "sub": tokens["sub"],
        "account_type": "ind",
        "name": "Bob Sample",
        "given_name": "Bob",
        "family_name": "Sample",
    }


async def test_userinfo_without_the_openid_scope_is_insufficient_scope(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims, scope="AdobeID,lr_partner_apis")
    response = await ims.get("/ims/userinfo/v2", headers=bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_profile_answers_the_ims_profile(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims, user="carol@example.com")
    profile = (await ims.get("/ims/profile/v1", headers=bearer(tokens["access_token"]))).json()
    assert profile["userId"] == tokens["sub"]
    assert profile["email"] == "carol@example.com"
    assert profile["account_type"] == "type2"
    assert profile["emailVerified"] == "true"  # a string, as IMS answers it
    assert profile["countryCode"] == "FR"


@pytest.mark.parametrize("path", ["/ims/profile/v1", "/ims/userinfo/v2"])
async def test_profile_and_userinfo_of_a_technical_account_are_401(ims: httpx.AsyncClient, path: str) -> None:
    response = await ims.post(
        "/ims/token/v3",
        data={"grant_type": "client_credentials", "scope": "openid,AdobeID"},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    token = response.json()["access_token"]
    assert_invalid_token(
        await ims.get(path, headers=bearer(token)), "access token of a technical account or removed user"
    )


async def test_userinfo_accepts_post(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    assert (await ims.post("/ims/userinfo/v2", headers=bearer(tokens["access_token"]))).status_code == 200


async def test_an_access_token_parameter_is_accepted_and_journalled(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    tokens = await tokens_for(ims)
    response = await ims.get("/ims/userinfo/v2", params={"access_token": tokens["access_token"]})
    assert response.status_code == 200
    assert "access_token_in_query" in (await last_entry(ims_context))["notes"]
    response = await ims.post("/ims/userinfo/v2", data={"access_token": tokens["access_token"]})
    assert response.status_code == 200
    assert "access_token_in_body" in (await last_entry(ims_context))["notes"]


async def test_a_client_id_that_differs_from_the_tokens_is_journalled(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    tokens = await tokens_for(ims)
    response = await ims.get(
        "/ims/userinfo/v2", params={"client_id": "someone-else"}, headers=bearer(tokens["access_token"])
    )
    assert response.status_code == 200
    assert "client_id_differs_from_token" in (await last_entry(ims_context))["notes"]


# ---- 401 with WWW-Authenticate -------------------------------------------------------------------


@pytest.mark.parametrize("path", RESOURCES)
async def test_no_token_is_401_with_a_bare_challenge(ims: httpx.AsyncClient, path: str) -> None:
    response = await ims.get(path)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    # RFC 6750 §3.1: no error code when the request had no credentials at all
    assert response.headers["www-authenticate"] == 'Bearer realm="ims"'


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJpZCI6IngifQ."])
async def test_a_malformed_token_is_401(ims: httpx.AsyncClient, path: str, token: str) -> None:
    assert_invalid_token(
        await ims.get(path, headers=bearer(token)), "access token malformed or not signed by this mock"
    )


@pytest.mark.parametrize("path", RESOURCES)
async def test_an_expired_token_is_401(ims: httpx.AsyncClient, ims_context: Context, path: str) -> None:
    tokens = await tokens_for(ims)
    await ims_context.clock.advance(86_400)
    assert_invalid_token(await ims.get(path, headers=bearer(tokens["access_token"])), "access token expired")
    assert (await last_entry(ims_context))["reason"] == "access token expired"


@pytest.mark.parametrize("path", RESOURCES)
async def test_a_revoked_token_is_401(ims: httpx.AsyncClient, path: str) -> None:
    tokens = await tokens_for(ims)
    revoke = await ims.post(
        "/ims/revoke", data={"token": tokens["access_token"]}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert revoke.status_code == 200
    assert_invalid_token(
        await ims.get(path, headers=bearer(tokens["access_token"])),
        "access token revoked (revoked by the client)",
    )


@pytest.mark.parametrize("path", RESOURCES)
async def test_a_refresh_token_is_not_a_bearer_token(ims: httpx.AsyncClient, path: str) -> None:
    tokens = await tokens_for(ims)
    response = await ims.get(path, headers=bearer(tokens["refresh_token"]))
    assert_invalid_token(response, "access token not an access token (type 'refresh_token')")


async def test_a_token_of_a_removed_user_is_401(ims: httpx.AsyncClient, ims_context: Context) -> None:
    tokens = await tokens_for(ims)
    await ims_context.registry.remove_user(tokens["sub"])
    response = await ims.get("/ims/userinfo/v2", headers=bearer(tokens["access_token"]))
    assert_invalid_token(response, "access token of a technical account or removed user")


# ---- validate_token --------------------------------------------------------------------------------


async def validate(ims: httpx.AsyncClient, **data: str) -> httpx.Response:
    return await ims.post("/ims/validate_token/v1", data=data)


async def test_validate_token_answers_valid_with_the_claims(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    body = (
        await validate(ims, token=tokens["access_token"], client_id=CLIENT_ID, type="access_token")
    ).json()
    assert body["valid"] is True
    assert body["token"]["type"] == "access_token"
    assert body["token"]["user_id"] == tokens["sub"]
    assert isinstance(body["expires_at"], int)


async def test_validate_token_checks_refresh_tokens_and_codes_by_type(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    answer = (
        await validate(ims, token=tokens["refresh_token"], client_id=CLIENT_ID, type="refresh_token")
    ).json()
    assert answer["valid"] is True
    answer = (await validate(ims, token=tokens["refresh_token"], client_id=CLIENT_ID)).json()
    assert answer == {"valid": False, "reason": "not an access token (type 'refresh_token')"}


async def test_validate_token_takes_the_client_id_header_and_a_bearer_token(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    response = await ims.get(
        "/ims/validate_token/v1", headers={**bearer(tokens["access_token"]), "X-IMS-ClientId": CLIENT_ID}
    )
    assert response.json()["valid"] is True


@pytest.mark.parametrize(
    ("advance", "revoke", "client_id", "reason"),
    [
        (86_400, False, CLIENT_ID, "expired"),
        (0, True, CLIENT_ID, "revoked (revoked by the client)"),
        (0, False, "other-client", "client_id mismatch"),
    ],
)
async def test_validate_token_answers_invalid_with_the_reason(
    ims: httpx.AsyncClient, ims_context: Context, advance: int, revoke: bool, client_id: str, reason: str
) -> None:
    tokens = await tokens_for(ims)
    if revoke:
        await ims.post("/ims/revoke", data={"token": tokens["access_token"]}, auth=(CLIENT_ID, CLIENT_SECRET))
    await ims_context.clock.advance(advance)
    response = await validate(ims, token=tokens["access_token"], client_id=client_id)
    assert response.status_code == 200
    assert response.json() == {"valid": False, "reason": reason}


async def test_validate_token_of_garbage_is_invalid(ims: httpx.AsyncClient) -> None:
    body = (await validate(ims, token="garbage", client_id=CLIENT_ID)).json()
    assert body == {"valid": False, "reason": "malformed or not signed by this mock"}


@pytest.mark.parametrize(
    ("data", "description"),
    [
        ({"client_id": CLIENT_ID}, "missing required parameter: token"),
        ({"token": "x"}, "missing required parameter: client_id"),
        ({"token": "x", "client_id": CLIENT_ID, "type": "id_token"}, "type 'id_token' is not one of"),
    ],
)
async def test_validate_token_refuses_incomplete_requests(
    ims: httpx.AsyncClient, data: dict[str, str], description: str
) -> None:
    response = await validate(ims, **data)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert description in response.json()["error_description"]
