"""`/ims/token/v3` (v2, v1, unversioned): client authentication, every grant, every refusal."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mock_ims.config import MockConfig
from mock_ims.protocol.pkce import s256
from mock_ims.state.context import Context
from tests.helpers.clients import (
    CODE_ONLY_CLIENT_ID,
    CODE_ONLY_SECRET,
    OTHER_CLIENT_ID,
    OTHER_SECRET,
    PUBLIC_CLIENT_ID,
    PUBLIC_REDIRECT_URI,
    config_with_extra_clients,
)
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, VERIFIER, redeem, sign_in, tokens_for

pytestmark = pytest.mark.anyio
AUTH = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
def config() -> MockConfig:
    return config_with_extra_clients()


async def last_entry(ctx: Context) -> dict[str, Any]:
    return (await ctx.journal.entries())[-1]


def assert_error(response: httpx.Response, error: str, description: str = "", status: int = 400) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert description in body["error_description"]
    assert response.headers["cache-control"] == "no-store"


async def post_token(
    ims: httpx.AsyncClient, data: dict[str, str], auth: Any = AUTH, path: str = "/ims/token/v3"
) -> httpx.Response:
    return await ims.post(path, data=data, auth=auth)


def ids_of(*tokens: str) -> list[str]:
    return [jwt.decode(t, options={"verify_signature": False})["id"] for t in tokens]


# ---- client authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "auth", "description"),
    [
        ({}, (CLIENT_ID, "wrong"), "invalid client_secret parameter"),
        ({"client_id": CLIENT_ID, "client_secret": "wrong"}, None, "invalid client_secret parameter"),
        ({}, ("nobody", "x"), "invalid client_id parameter"),
        ({"client_id": CLIENT_ID}, None, "missing client_secret parameter"),
        ({"client_secret": CLIENT_SECRET}, None, "missing client_id parameter"),
        ({"client_id": OTHER_CLIENT_ID}, AUTH, "client_id differs from the HTTP Basic credentials"),
        ({"client_id": PUBLIC_CLIENT_ID, "client_secret": "s"}, None, "a public client has no secret"),
    ],
)
async def test_failed_client_authentication_is_invalid_client(
    ims: httpx.AsyncClient, data: dict[str, str], auth: Any, description: str
) -> None:
    response = await post_token(ims, {"grant_type": "client_credentials", **data}, auth=auth)
    assert_error(response, "invalid_client", description)


async def test_a_wrong_secret_is_journalled_with_its_reason(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    await post_token(ims, {"grant_type": "client_credentials"}, auth=(CLIENT_ID, "wrong"))
    entry = await last_entry(ims_context)
    assert (entry["outcome"], entry["error"], entry["reason"]) == (
        "refused",
        "invalid_client",
        "wrong client secret",
    )
    assert entry["auth"] == "basic"


async def test_basic_credentials_are_form_urlencoded_first(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    # RFC 6749 §2.3.1: a client id or secret with reserved characters is urlencoded before base64
    response = await post_token(
        ims, {"grant_type": "client_credentials"}, auth=("mock%2Dpartner%2Dapp", CLIENT_SECRET)
    )
    assert response.status_code == 200, response.text


async def test_basic_and_client_secret_together_are_refused(ims: httpx.AsyncClient) -> None:
    response = await post_token(ims, {"grant_type": "client_credentials", "client_secret": CLIENT_SECRET})
    assert_error(response, "invalid_request", "client authenticated twice")


# ---- authorization_code ----------------------------------------------------------------------


async def test_an_unknown_code_is_invalid_grant(ims: httpx.AsyncClient, ims_context: Context) -> None:
    assert_error(await redeem(ims, "not-a-code"), "invalid_grant", "invalid authorization code")
    assert (await last_entry(ims_context))["reason"].startswith("code malformed or not signed by this mock")


async def test_a_code_the_mock_no_longer_knows_is_invalid_grant(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    callback = await sign_in(ims)
    await ims_context.store.clear("tokens")
    assert_error(await redeem(ims, callback.code), "invalid_grant")
    assert "unknown to this mock" in (await last_entry(ims_context))["reason"]


async def test_a_code_signed_by_someone_else_is_invalid_grant(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    header, claims = (
        jwt.get_unverified_header(callback.code),
        jwt.decode(callback.code, options={"verify_signature": False}),
    )
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": header["kid"]})
    assert_error(await redeem(ims, forged), "invalid_grant")


async def test_an_expired_code_is_invalid_grant(ims: httpx.AsyncClient, ims_context: Context) -> None:
    callback = await sign_in(ims)
    await ims_context.clock.advance(600)  # code_lifetime: RFC 6749 §4.1.2 recommends 10 minutes at most
    assert_error(await redeem(ims, callback.code), "invalid_grant", "invalid authorization code")
    assert (await last_entry(ims_context))["reason"] == "code expired"


async def test_a_code_just_before_expiry_is_still_good(ims: httpx.AsyncClient, ims_context: Context) -> None:
    callback = await sign_in(ims)
    await ims_context.clock.advance(590)
    assert (await redeem(ims, callback.code)).status_code == 200


async def test_a_reused_code_is_refused_and_revokes_every_token_it_produced(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    callback = await sign_in(ims)
    tokens = (await redeem(ims, callback.code)).json()
    assert_error(await redeem(ims, callback.code), "invalid_grant", "authorization code already used")
    entry = await last_entry(ims_context)
    assert set(entry["revoked"]) == {
        entry["consumed"],
        *ids_of(tokens["access_token"], tokens["refresh_token"]),
    }
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await ims.get("/ims/userinfo/v2", headers=bearer)).status_code == 401
    refresh = await post_token(ims, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert_error(refresh, "invalid_grant")


async def test_a_code_of_another_client_is_invalid_grant_and_stays_usable_by_its_owner(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    callback = await sign_in(ims)
    foreign = await redeem_as(ims, callback.code, (OTHER_CLIENT_ID, OTHER_SECRET))
    assert_error(foreign, "invalid_grant", "invalid authorization code")
    assert (await last_entry(ims_context))["reason"] == "code was issued to another client"
    assert (await redeem(ims, callback.code)).status_code == 200


async def redeem_as(ims: httpx.AsyncClient, code: str, auth: tuple[str, str], **extra: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER, **extra}
    return await ims.post("/ims/token/v3", data=data, auth=auth)


async def test_an_access_or_refresh_token_is_not_a_code(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert_error(await redeem(ims, token), "invalid_grant", "invalid authorization code")


async def test_a_redirect_uri_that_differs_from_the_authorize_request_is_invalid_grant(
    ims: httpx.AsyncClient,
) -> None:
    callback = await sign_in(ims)
    response = await redeem(ims, callback.code, redirect_uri="http://localhost:8000/other")
    assert_error(response, "invalid_grant", "redirect_uri does not match")


async def test_the_same_redirect_uri_is_accepted(ims: httpx.AsyncClient, ims_context: Context) -> None:
    callback = await sign_in(ims)
    assert (await redeem(ims, callback.code, redirect_uri=REDIRECT_URI)).status_code == 200
    assert "redirect_uri_omitted" not in (await last_entry(ims_context))["notes"]


async def test_an_omitted_redirect_uri_is_accepted_and_journalled(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    callback = await sign_in(ims)
    assert (await redeem(ims, callback.code)).status_code == 200
    assert "redirect_uri_omitted" in (await last_entry(ims_context))["notes"]


async def test_a_verifier_that_does_not_match_the_challenge_is_invalid_grant(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    response = await redeem(ims, callback.code, code_verifier="w" * 43)
    assert_error(response, "invalid_grant", "code_verifier does not match the code_challenge")


async def test_a_malformed_verifier_is_invalid_grant(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    response = await redeem(ims, callback.code, code_verifier="short")
    assert_error(response, "invalid_grant", "code_verifier does not match")


async def test_a_challenge_without_a_verifier_is_invalid_grant(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    response = await ims.post(
        "/ims/token/v3", data={"grant_type": "authorization_code", "code": callback.code}, auth=AUTH
    )
    assert_error(response, "invalid_grant", "missing code_verifier")


async def test_a_verifier_without_a_challenge_is_invalid_grant(ims: httpx.AsyncClient) -> None:
    # RFC 9700 §2.1.1: a PKCE downgrade
    callback = await sign_in(ims, code_challenge=None, code_challenge_method=None)
    assert_error(await redeem(ims, callback.code), "invalid_grant", "no code_challenge")


async def test_a_failed_pkce_check_does_not_use_up_the_code(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    assert (await redeem(ims, callback.code, code_verifier="w" * 43)).status_code == 400
    assert (await redeem(ims, callback.code)).status_code == 200


async def test_plain_pkce_verifies(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims, code_challenge=VERIFIER, code_challenge_method="plain")
    assert (await redeem(ims, callback.code)).status_code == 200


async def test_a_code_without_pkce_is_redeemed_by_a_confidential_client(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims, code_challenge=None, code_challenge_method=None)
    response = await ims.post(
        "/ims/token/v3", data={"grant_type": "authorization_code", "code": callback.code}, auth=AUTH
    )
    assert response.status_code == 200


async def test_a_public_client_redeems_with_its_verifier_only(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(
        ims, client_id=PUBLIC_CLIENT_ID, redirect_uri=PUBLIC_REDIRECT_URI, code_challenge=s256(VERIFIER)
    )
    response = await ims.post(
        "/ims/token/v3",
        data={
            "grant_type": "authorization_code",
            "client_id": PUBLIC_CLIENT_ID,
            "code": callback.code,
            "code_verifier": "x" * 43,
        },
    )
    assert_error(response, "invalid_grant", "code_verifier does not match")


# ---- grant types, missing parameters ---------------------------------------------------------


async def test_an_unknown_grant_type_is_unsupported_grant_type(ims: httpx.AsyncClient) -> None:
    for grant_type in ("password", "urn:ietf:params:oauth:grant-type:jwt-bearer", "implicit"):
        response = await post_token(ims, {"grant_type": grant_type})
        assert_error(response, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


async def test_a_grant_the_client_may_not_use_is_unauthorized_client(ims: httpx.AsyncClient) -> None:
    response = await post_token(
        ims, {"grant_type": "client_credentials"}, auth=(CODE_ONLY_CLIENT_ID, CODE_ONLY_SECRET)
    )
    assert_error(response, "unauthorized_client", "grant_type=client_credentials")


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        ({}, "grant_type"),
        ({"grant_type": ""}, "grant_type"),
        ({"grant_type": "authorization_code"}, "code"),
        ({"grant_type": "authorization_code", "code": ""}, "code"),
        ({"grant_type": "refresh_token"}, "refresh_token"),
    ],
)
async def test_a_missing_parameter_is_invalid_request_naming_it(
    ims: httpx.AsyncClient, data: dict[str, str], missing: str
) -> None:
    assert_error(await post_token(ims, data), "invalid_request", f"missing required parameter: {missing}")


async def test_get_on_the_token_endpoint_is_405_with_allow(ims: httpx.AsyncClient) -> None:
    response = await ims.get("/ims/token/v3", params={"grant_type": "client_credentials"}, auth=AUTH)
    assert_error(response, "invalid_request", "takes POST", status=405)
    assert response.headers["allow"] == "POST"


# ---- token responses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expires_in"),
    [
        ("/ims/token/v3", 86399),
        ("/ims/token/v2", 86399000),
        ("/ims/token/v1", 86399000),
        ("/ims/token", 86399000),
    ],
)
async def test_expires_in_is_seconds_on_v3_and_milliseconds_on_legacy_endpoints(
    ims: httpx.AsyncClient, path: str, expires_in: int
) -> None:
    callback = await sign_in(ims)
    response = await redeem(ims, callback.code, path=path)
    assert response.status_code == 200
    assert response.json()["expires_in"] == expires_in
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"


async def test_no_refresh_token_without_offline_access(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims, scope="openid,AdobeID,lr_partner_apis")
    assert "refresh_token" not in body
    assert "id_token" in body


async def test_no_id_token_without_openid(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims, scope="AdobeID,lr_partner_apis,offline_access")
    assert "id_token" not in body and "refresh_token" in body


async def test_the_access_token_names_its_refresh_token(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    access = jwt.decode(body["access_token"], options={"verify_signature": False})
    refresh = jwt.decode(body["refresh_token"], options={"verify_signature": False})
    assert access["rtid"] == refresh["id"]
    assert int(access["rtea"]) == int(refresh["created_at"]) + int(refresh["expires_in"])
    assert refresh["expires_in"] == str(14 * 86_400_000)
    assert access["state"] == "state-123"


# ---- refresh_token -----------------------------------------------------------------------------


async def refresh(ims: httpx.AsyncClient, token: str, auth: Any = AUTH, **extra: str) -> httpx.Response:
    return await post_token(ims, {"grant_type": "refresh_token", "refresh_token": token, **extra}, auth=auth)


async def test_a_refresh_answers_a_new_pair_and_no_id_token(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    response = await refresh(ims, tokens["refresh_token"])
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}


async def test_an_expired_refresh_token_is_invalid_grant(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    tokens = await tokens_for(ims)
    await ims_context.clock.advance(14 * 86_400)
    assert_error(await refresh(ims, tokens["refresh_token"]), "invalid_grant", "invalid refresh token")
    assert (await last_entry(ims_context))["reason"] == "refresh token expired"


async def test_a_rotated_refresh_token_keeps_the_original_expiry(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    tokens = await tokens_for(ims)
    await ims_context.clock.advance(10 * 86_400)
    rotated = (await refresh(ims, tokens["refresh_token"])).json()
    await ims_context.clock.advance(4 * 86_400)
    assert_error(await refresh(ims, rotated["refresh_token"]), "invalid_grant")


async def test_a_refresh_token_of_another_client_is_invalid_grant(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    tokens = await tokens_for(ims)
    assert_error(
        await refresh(ims, tokens["refresh_token"], auth=(OTHER_CLIENT_ID, OTHER_SECRET)), "invalid_grant"
    )
    assert (await last_entry(ims_context))["reason"] == "refresh token was issued to another client"
    assert (await refresh(ims, tokens["refresh_token"])).status_code == 200


async def test_an_access_token_is_not_a_refresh_token(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    assert_error(await refresh(ims, tokens["access_token"]), "invalid_grant", "invalid refresh token")


async def test_a_refresh_may_narrow_the_scope_but_not_widen_it(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    narrowed = await refresh(ims, tokens["refresh_token"], scope="openid,offline_access")
    assert narrowed.status_code == 200
    claims = jwt.decode(narrowed.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "openid,offline_access"
    widened = await refresh(ims, narrowed.json()["refresh_token"], scope="openid,offline_access,email")
    assert_error(widened, "invalid_scope", "scope email was not granted to this refresh token")


async def test_a_refresh_token_revoked_by_a_replay_stays_revoked(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    tokens = await tokens_for(ims)
    rotated = (await refresh(ims, tokens["refresh_token"])).json()
    assert_error(await refresh(ims, tokens["refresh_token"]), "invalid_grant")
    entry = await last_entry(ims_context)
    assert set(ids_of(rotated["access_token"], rotated["refresh_token"])) <= set(entry["revoked"])
    assert entry["reason"].startswith("refresh token already used (rotated); revoked 5 token(s)")
    bearer = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await ims.get("/ims/userinfo/v2", headers=bearer)).status_code == 401


# ---- client_credentials ------------------------------------------------------------------------


async def test_client_credentials_without_scope_gets_the_clients_scopes_but_offline_access(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    response = await post_token(ims, {"grant_type": "client_credentials"})
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "openid,AdobeID,lr_partner_apis,email,profile"
    assert claims["ctp"] == 3
    assert "scope_omitted" in (await last_entry(ims_context))["notes"]


async def test_client_credentials_takes_the_scopes_of_adobes_server_to_server_samples(
    ims: httpx.AsyncClient,
) -> None:
    # developer.adobe.com: `scope=openid,AdobeID,firefly_enterprise`, or "openid, AdobeID, ..."
    response = await post_token(
        ims, {"grant_type": "client_credentials", "scope": "openid, AdobeID, lr_partner_apis"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}  # no ID token: there is no user
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "openid,AdobeID,lr_partner_apis"


@pytest.mark.parametrize("scope", ["offline_access", "AdobeID,admin"])
async def test_client_credentials_refuses_offline_access_and_unknown_scopes(
    ims: httpx.AsyncClient, scope: str
) -> None:
    assert_error(await post_token(ims, {"grant_type": "client_credentials", "scope": scope}), "invalid_scope")


async def test_a_public_client_cannot_use_client_credentials(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    # even one whose configuration (wrongly) allows the grant
    await ims_context.ensure_started()
    public = await ims_context.registry.client(PUBLIC_CLIENT_ID)
    assert public is not None
    await ims_context.registry.put_client(replace(public, grant_types=("client_credentials",)))
    response = await ims.post(
        "/ims/token/v3", data={"grant_type": "client_credentials", "client_id": PUBLIC_CLIENT_ID}
    )
    assert_error(response, "unauthorized_client", "a public client cannot use client_credentials")
