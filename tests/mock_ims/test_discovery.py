"""Discovery, `/ims/keys`, unknown paths and methods."""

from __future__ import annotations

import httpx
import jwt
import pytest

from mock_ims.config import default_config
from mock_ims.protocol.keys import KIDS
from mock_ims.serving.app import create_app
from mock_ims.state.context import Context, Settings

pytestmark = pytest.mark.anyio
BASE = "http://127.0.0.1:8765"


async def test_discovery_is_served_at_both_paths_and_points_at_this_server(ims: httpx.AsyncClient) -> None:
    under_ims = (await ims.get("/ims/.well-known/openid-configuration")).json()
    at_root = (await ims.get("/.well-known/openid-configuration")).json()
    assert under_ims == at_root
    assert under_ims["issuer"] == BASE
    for key in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "revocation_endpoint",
    ):
        assert under_ims[key].startswith(BASE + "/ims/"), key
    assert under_ims["token_endpoint"] == f"{BASE}/ims/token/v3"
    assert "S256" in under_ims["code_challenge_methods_supported"]


async def test_discovery_follows_the_host_the_client_used(ims_context: Context) -> None:
    transport = httpx.ASGITransport(app=create_app(ims_context.settings, context=ims_context))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:9999") as client:
        document = (await client.get("/.well-known/openid-configuration")).json()
    assert document["issuer"] == "http://localhost:9999"


async def test_a_configured_issuer_wins() -> None:
    ctx = Context(Settings(default_config().with_overrides(issuer="https://ims.example")))
    transport = httpx.ASGITransport(app=create_app(ctx.settings, context=ctx))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        document = (await client.get("/ims/.well-known/openid-configuration")).json()
    assert document["issuer"] == "https://ims.example"
    assert document["jwks_uri"] == "https://ims.example/ims/keys"


async def test_keys_publish_every_signing_key(ims: httpx.AsyncClient) -> None:
    response = await ims.get("/ims/keys")
    assert response.headers["cache-control"] == "public, max-age=300"
    jwks = response.json()
    assert [k["kid"] for k in jwks["keys"]] == list(KIDS)
    for key in jwks["keys"]:
        assert (key["kty"], key["use"], key["alg"], key["e"]) == ("RSA", "sig", "RS256", "AQAB")
        jwt.PyJWK.from_dict(key)  # a usable key


async def test_an_unknown_ims_path_is_a_journalled_404(ims: httpx.AsyncClient, ims_context: Context) -> None:
    response = await ims.get("/ims/token/v4")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "error_description": "no IMS endpoint at /ims/token/v4"}
    entry = (await ims_context.journal.entries())[-1]
    assert (entry["endpoint"], entry["outcome"], entry["status"]) == ("unknown", "refused", 404)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("POST", "/ims/keys", "GET, HEAD"),
        ("POST", "/ims/profile/v1", "GET, HEAD"),
        ("GET", "/ims/login", "POST"),
        ("DELETE", "/ims/token/v3", "GET, HEAD, POST"),
        ("PUT", "/ims/authorize/v2", "GET, HEAD, POST"),
    ],
)
async def test_a_method_a_served_path_does_not_take_is_405(
    ims: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await ims.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json()["error"] == "invalid_request"
    assert f"{method} is not served at {path}" in response.json()["error_description"]


async def test_head_is_answered_like_get_without_a_body(ims: httpx.AsyncClient) -> None:
    response = await ims.head("/ims/keys")
    assert response.status_code == 200
    assert response.content == b""
