"""Authlib, configured with nothing but the discovery URL, signs in against a real mock."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from joserfc.errors import BadSignatureError

from tests.helpers.processes import RunningProcess
from tests.interop.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    journal,
    query_of,
    sign_in_over_http,
)

pytestmark = pytest.mark.anyio


def authlib_client(discovery_url: str) -> StarletteOAuth2App:
    app: StarletteOAuth2App = OAuth().register(
        "ims",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        server_metadata_url=discovery_url,
        client_kwargs={
            "scope": "openid AdobeID email profile offline_access",
            "code_challenge_method": "S256",
        },
    )
    return app


async def sign_in(ims: StarletteOAuth2App) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole flow as a partner app runs it: the authorization data and the tokens."""
    authorization = await ims.create_authorization_url(REDIRECT_URI)
    callback = query_of(await sign_in_over_http(authorization["url"]))
    assert callback["state"] == authorization["state"]
    token = await ims.fetch_access_token(
        redirect_uri=REDIRECT_URI, code=callback["code"], code_verifier=authorization["code_verifier"]
    )
    return authorization, dict(token)


@pytest.mark.parametrize(
    "discovery", ["/.well-known/openid-configuration", "/ims/.well-known/openid-configuration"]
)
async def test_authlib_signs_in_exchanges_the_code_and_verifies_the_id_token(
    ims_server: RunningProcess, discovery: str
) -> None:
    ims = authlib_client(ims_server.url + discovery)
    authorization, token = await sign_in(ims)
    assert token["token_type"] == "bearer"
    assert {"access_token", "refresh_token", "id_token"} <= set(token)
    # signature by a key of the JWKS named in discovery; iss, aud, exp, iat, nonce and at_hash
    claims = await ims.parse_id_token(token, nonce=authorization["nonce"])
    assert claims["iss"] == ims_server.url
    assert claims["aud"] == CLIENT_ID
    assert claims["email"] == "alice@example.com"
    userinfo = await ims.userinfo(token=token)
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["email"] == "alice@example.com"


async def test_the_flow_authlib_runs_is_the_strict_one(ims_server: RunningProcess) -> None:
    ims = authlib_client(ims_server.url + "/.well-known/openid-configuration")
    _, token = await sign_in(ims)
    entries = await journal(ims_server, endpoint="token")
    redeemed = next(e for e in reversed(entries) if e["grant_type"] == "authorization_code")
    assert redeemed["outcome"] == "ok"
    assert redeemed["notes"] == []  # redirect_uri sent, secret by HTTP Basic
    assert redeemed["auth"] == "basic"
    authorize = (await journal(ims_server, endpoint="authorize"))[-1]
    assert authorize["params"]["code_challenge_method"] == "S256"
    assert "access_token" in token


async def test_authlib_refuses_an_id_token_whose_payload_was_changed(ims_server: RunningProcess) -> None:
    # the check above proves something only if Authlib would have noticed a forgery
    ims = authlib_client(ims_server.url + "/.well-known/openid-configuration")
    authorization, token = await sign_in(ims)
    header, payload, signature = token["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "email": "mallory@example.com"}).encode()).rstrip(
        b"="
    )
    with pytest.raises(BadSignatureError):
        await ims.parse_id_token(
            {**token, "id_token": f"{header}.{forged.decode()}.{signature}"}, nonce=authorization["nonce"]
        )


async def test_a_deny_reaches_authlib_as_access_denied_with_its_state(ims_server: RunningProcess) -> None:
    ims = authlib_client(ims_server.url + "/.well-known/openid-configuration")
    authorization = await ims.create_authorization_url(REDIRECT_URI)
    callback = query_of(await sign_in_over_http(authorization["url"], action="deny"))
    assert callback["error"] == "access_denied"
    assert callback["state"] == authorization["state"]
