"""The authorization code flow, as a partner's backend sees it."""

from __future__ import annotations

import httpx
import jwt
import pytest

from tests.helpers.flows import CLIENT_ID, REDIRECT_URI, VERIFIER, redeem, sign_in, tokens_for

pytestmark = pytest.mark.anyio


async def test_sign_in_redirects_back_with_a_code_and_the_state(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    assert callback.location.startswith(REDIRECT_URI + "?")
    assert callback.params["state"] == "state-123"
    header = jwt.get_unverified_header(callback.code)
    assert header["x5u"].startswith("ims_na1-key-")
    assert jwt.decode(callback.code, options={"verify_signature": False})["type"] == "authorization_code"


async def test_the_code_buys_access_refresh_and_id_tokens(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    assert set(body) == {"access_token", "refresh_token", "sub", "id_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 86399


async def test_access_tokens_are_shaped_like_ims_tokens(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    header = jwt.get_unverified_header(body["access_token"])
    assert header == {"alg": "RS256", "x5u": "ims_na1-key-at-1.cer", "kid": "ims_na1-key-at-1", "itt": "at"}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["type"] == "access_token"
    assert claims["client_id"] == CLIENT_ID
    assert claims["scope"] == "openid,AdobeID,lr_partner_apis,offline_access"
    assert claims["expires_in"] == "86400000"
    assert claims["created_at"].isdigit()
    assert claims["mock"] is True
    assert "exp" not in claims and "iss" not in claims
    refresh_header = jwt.get_unverified_header(body["refresh_token"])
    assert refresh_header["itt"] == "rt"


async def test_the_id_token_verifies_against_the_published_keys(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    jwks = (await ims.get("/ims/keys")).json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(body["id_token"])["kid"]]
    discovery = (await ims.get("/ims/.well-known/openid-configuration")).json()
    claims = jwt.decode(
        body["id_token"], key.key, algorithms=["RS256"], audience=CLIENT_ID, issuer=discovery["issuer"]
    )
    assert claims["nonce"] == "nonce-456"
    assert claims["sub"] == body["sub"]
    assert claims["email"] == "alice@example.com"


async def test_a_code_is_single_use_and_its_replay_revokes_what_it_bought(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    first = await redeem(ims, callback.code)
    assert first.status_code == 200
    replay = await redeem(ims, callback.code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    userinfo = await ims.get(
        "/ims/userinfo/v2", headers={"Authorization": f"Bearer {first.json()['access_token']}"}
    )
    assert userinfo.status_code == 401


async def test_legacy_token_endpoints_answer_in_milliseconds_with_profile_claims(
    ims: httpx.AsyncClient,
) -> None:
    callback = await sign_in(ims)
    response = await redeem(ims, callback.code, path="/ims/token")
    body = response.json()
    assert body["expires_in"] == 86399000
    assert body["email"] == "alice@example.com"
    assert body["email_verified"] == "true"


async def test_adobe_sample_style_query_string_request_without_redirect_uri(ims: httpx.AsyncClient) -> None:
    for path in ("/ims/token", "/ims/token/v3"):
        callback = await sign_in(ims)
        params = {
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": "mock-partner-secret",
            "code": callback.code,
            "code_verifier": VERIFIER,
        }
        response = await ims.post(path, params=params)
        assert response.status_code == 200, response.text
    journal = (await ims.get("/__admin/journal", params={"endpoint": "token"})).json()["entries"]
    assert all("client_secret_in_query" in e["notes"] for e in journal)
    assert all("redirect_uri_omitted" in e["notes"] for e in journal)
    assert all(e["params"]["client_secret"] == "***" for e in journal)


async def test_multipart_token_request(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    fields = {
        "grant_type": "authorization_code",
        "code": callback.code,
        "code_verifier": VERIFIER,
        "client_id": CLIENT_ID,
        "client_secret": "mock-partner-secret",
    }
    response = await ims.post("/ims/token/v1", files={k: (None, v) for k, v in fields.items()})
    assert response.status_code == 200, response.text


async def test_refresh_rotates_and_the_old_refresh_token_is_refused(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    auth = (CLIENT_ID, "mock-partner-secret")
    first = await ims.post(
        "/ims/token/v3",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=auth,
    )
    assert first.status_code == 200
    rotated = first.json()
    assert set(rotated) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert rotated["refresh_token"] != body["refresh_token"]
    again = await ims.post(
        "/ims/token/v3",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=auth,
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # replay detection revoked the family, the rotated token included
    next_refresh = await ims.post(
        "/ims/token/v3",
        data={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]},
        auth=auth,
    )
    assert next_refresh.json()["error"] == "invalid_grant"


async def test_client_credentials(ims: httpx.AsyncClient) -> None:
    response = await ims.post(
        "/ims/token/v3",
        data={"grant_type": "client_credentials", "scope": "AdobeID,lr_partner_apis"},
        auth=(CLIENT_ID, "mock-partner-secret"),
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["user_id"].endswith("@techacct.adobe.com")


async def test_the_sid_claim_of_a_token_cannot_be_replayed_as_the_sso_cookie(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    sid = jwt.decode(body["access_token"], options={"verify_signature": False})["sid"]
    ims.cookies.clear()
    ims.cookies.set("mock_ims_sso", sid, path="/ims")
    from tests.helpers.flows import authorize_params

    response = await ims.get("/ims/authorize/v2", params=authorize_params())
    assert response.status_code == 200  # the login page: the sid alone signs nobody in
    ims.cookies.set("mock_ims_sso", f"{sid}.guess", path="/ims")
    assert (await ims.get("/ims/authorize/v2", params=authorize_params())).status_code == 200
