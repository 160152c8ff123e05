"""The Lightroom stub answers like lr.adobe.io: API key, bearer token, entitlement, prefix."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import httpx
import jwt
import pytest

from mock_ims.config import ClientConfig, MockConfig, default_config
from mock_ims.state.context import Context
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, tokens_for

pytestmark = pytest.mark.anyio

PREFIX = "while (1) {}\n"
OTHER_CLIENT = "other-partner-app"
FORBIDDEN = {"code": 4300, "description": "Access is forbidden"}  # expired: refresh
NOT_PERMITTED = {"code": 1016, "description": "Requested operation not permitted"}  # refresh will not help
UNAUTHORIZED = {"code": 401, "description": "Unauthorized"}
DAY = 86_400


@pytest.fixture
def config() -> MockConfig:
    """The default configuration plus a second partner allowed to use Lightroom."""
    base = default_config()
    other = ClientConfig(
        client_id=OTHER_CLIENT,
        client_secret="other-secret",
        redirect_uris=(r"http://localhost(:\d+)?(/.*)?",),
        scopes=("openid", "AdobeID", "lr_partner_apis", "offline_access"),
    )
    return replace(base, clients=(*base.clients, other))


def lightroom_headers(token: str | None = None, api_key: str | None = CLIENT_ID) -> dict[str, str]:
    headers = {}
    if api_key is not None:
        headers["X-API-Key"] = api_key
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def lightroom_json(response: httpx.Response) -> Any:
    """The JSON behind Lightroom's prefix; every answer, errors too, must carry it."""
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert response.text.startswith(PREFIX), response.text
    return json.loads(response.text[len(PREFIX) :])


async def access_token(ims: httpx.AsyncClient, user: str = "alice@example.com", **overrides: Any) -> str:
    body = await tokens_for(ims, user=user, prompt="login", **overrides)
    token: str = body["access_token"]
    return token


async def test_health_needs_only_the_api_key_and_answers_a_hex_version(ims: httpx.AsyncClient) -> None:
    response = await ims.get("/v2/health", headers=lightroom_headers())
    assert response.status_code == 200
    body = lightroom_json(response)
    assert set(body) == {"version"}
    int(body["version"], 16)


@pytest.mark.parametrize("path", ["/v2/health", "/v2/account", "/v2/catalog"])
@pytest.mark.parametrize(
    ("api_key", "expected"),
    [
        (None, {"code": "403000", "description": "Api Key is required"}),
        ("", {"code": "403000", "description": "Api Key is required"}),
        ("no-such-client", {"code": "403003", "description": "Api Key is invalid"}),
    ],
)
async def test_a_missing_or_unknown_api_key_is_refused_with_lightrooms_codes(
    ims: httpx.AsyncClient, path: str, api_key: str | None, expected: dict[str, str]
) -> None:
    token = await access_token(ims)
    response = await ims.get(path, headers=lightroom_headers(token, api_key=api_key))
    assert response.status_code == 403
    assert lightroom_json(response) == expected


@pytest.mark.parametrize("path", ["/v2/account", "/v2/catalog"])
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer not-a-token",
        "Basic bW9jay1wYXJ0bmVyLWFwcDptb2NrLXBhcnRuZXItc2VjcmV0",
    ],
)
async def test_account_and_catalog_answer_401_without_a_valid_bearer_token(
    ims: httpx.AsyncClient, path: str, authorization: str | None
) -> None:
    headers = lightroom_headers()
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await ims.get(path, headers=headers)
    assert response.status_code == 401
    assert lightroom_json(response) == UNAUTHORIZED


async def test_the_account_is_the_users_with_their_entitlement(ims: httpx.AsyncClient) -> None:
    token = await access_token(ims)
    response = await ims.get("/v2/account", headers=lightroom_headers(token))
    assert response.status_code == 200
    account = lightroom_json(response)
    assert account["type"] == "account"
    assert account["email"] == "alice@example.com"
    assert account["full_name"] == "Alice Example"
    assert account["entitlement"]["status"] == "subscriber"
    assert account["base"] == "http://127.0.0.1:8765/"


@pytest.mark.parametrize(
    ("user", "entitlement", "catalog_status"),
    [
        ("alice@example.com", "subscriber", 200),
        ("bob@example.com", "trial", 200),
        ("carol@example.com", "subscriber_expired", 403),
    ],
)
async def test_only_subscribers_and_trials_may_read_their_catalog(
    ims: httpx.AsyncClient, user: str, entitlement: str, catalog_status: int
) -> None:
    token = await access_token(ims, user=user)
    account = await ims.get("/v2/account", headers=lightroom_headers(token))
    assert lightroom_json(account)["entitlement"]["status"] == entitlement
    response = await ims.get("/v2/catalog", headers=lightroom_headers(token))
    assert response.status_code == catalog_status
    body = lightroom_json(response)
    if catalog_status == 200:
        assert body["type"] == "catalog"
        assert body["base"] == "http://127.0.0.1:8765/v2/"
        assert len(body["id"]) == 32
        assert body["payload"]["name"]
        assert body["links"]["self"]["href"] == f"catalogs/{body['id']}"
    else:
        assert body == {
            "code": 4301,
            "description": "Access forbidden due to account state of resource owner",
        }


async def test_an_expired_access_token_answers_403_4300_once_the_clock_moves_past_expiry(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    token = await access_token(ims)
    assert (await ims.get("/v2/account", headers=lightroom_headers(token))).status_code == 200
    await ims_context.clock.advance(DAY + 1)
    response = await ims.get("/v2/account", headers=lightroom_headers(token))
    assert response.status_code == 403
    assert lightroom_json(response) == FORBIDDEN
    # IMS itself calls the same token invalid (401); Lightroom says forbidden.
    userinfo = await ims.get("/ims/userinfo/v2", headers={"Authorization": f"Bearer {token}"})
    assert userinfo.status_code == 401


async def test_a_revoked_access_token_answers_401(ims: httpx.AsyncClient) -> None:
    token = await access_token(ims)
    revoke = await ims.post("/ims/revoke", data={"token": token}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert revoke.status_code == 200
    response = await ims.get("/v2/account", headers=lightroom_headers(token))
    assert response.status_code == 401
    assert lightroom_json(response) == UNAUTHORIZED


async def test_a_refresh_token_is_no_bearer_token(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    response = await ims.get("/v2/account", headers=lightroom_headers(body["refresh_token"]))
    assert response.status_code == 401


async def test_a_token_without_lr_partner_apis_is_forbidden(ims: httpx.AsyncClient) -> None:
    token = await access_token(ims, scope="openid,AdobeID,offline_access")
    response = await ims.get("/v2/account", headers=lightroom_headers(token))
    assert response.status_code == 403
    assert lightroom_json(response) == NOT_PERMITTED


async def test_a_token_issued_to_another_client_than_the_api_key_is_forbidden(ims: httpx.AsyncClient) -> None:
    token = await access_token(ims)
    response = await ims.get("/v2/account", headers=lightroom_headers(token, api_key=OTHER_CLIENT))
    assert response.status_code == 403
    assert lightroom_json(response) == NOT_PERMITTED


async def test_a_technical_account_token_is_forbidden(ims: httpx.AsyncClient) -> None:
    issued = await ims.post(
        "/ims/token/v3", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, CLIENT_SECRET)
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    # It has the scope; what it lacks is a user.
    assert "lr_partner_apis" in jwt.decode(token, options={"verify_signature": False})["scope"].split(",")
    response = await ims.get("/v2/catalog", headers=lightroom_headers(token))
    assert response.status_code == 403
    assert lightroom_json(response) == NOT_PERMITTED


async def test_a_token_of_a_removed_user_answers_401(ims: httpx.AsyncClient, ims_context: Context) -> None:
    token = await access_token(ims, user="bob@example.com")
    bob = await ims_context.registry.user_by_email("bob@example.com")
    assert bob is not None
    await ims_context.registry.remove_user(bob.user_id)
    response = await ims.get("/v2/account", headers=lightroom_headers(token))
    assert response.status_code == 401


async def test_lightroom_calls_are_journalled_with_token_user_and_reason(
    ims: httpx.AsyncClient, ims_context: Context
) -> None:
    token = await access_token(ims)
    await ims.get("/v2/account", headers=lightroom_headers(token))
    await ims_context.clock.advance(DAY + 1)
    await ims.get("/v2/account", headers=lightroom_headers(token))
    await ims.get("/v2/health", headers=lightroom_headers(api_key="no-such-client"))

    journal = (await ims.get("/__admin/journal", params={"endpoint": "lightroom.account"})).json()["entries"]
    assert [(e["status"], e["outcome"]) for e in journal] == [(200, "ok"), (403, "refused")]
    ok, expired = journal
    assert ok["client_id"] == CLIENT_ID
    assert ok["user_id"].endswith("@AdobeID")
    assert ok["consumed"] and ok["consumed"] == expired["consumed"]
    assert ok["headers"]["x-api-key"] == CLIENT_ID
    assert ok["headers"]["authorization"] == "Bearer"
    assert expired["error"] == "4300"
    assert expired["reason"] == "access token expired"
    health = (await ims.get("/__admin/journal", params={"endpoint": "lightroom.health"})).json()["entries"]
    assert health[0]["error"] == "403003"
    assert "no-such-client" in health[0]["reason"]


@pytest.mark.parametrize("path", ["/v2/health", "/v2/account", "/v2/catalog"])
@pytest.mark.parametrize(
    ("query", "authorization"),
    [(b"x=%ff", None), (b"a=1&a=2", None), (b"", "Basic !!!")],
    ids=["a query that is not UTF-8", "a repeated parameter", "malformed Basic credentials"],
)
async def test_an_unreadable_request_is_a_400_in_lightrooms_shape_too(
    ims: httpx.AsyncClient, ims_context: Context, path: str, query: bytes, authorization: str | None
) -> None:
    headers = lightroom_headers()
    if authorization is not None:
        headers["Authorization"] = authorization
    url = httpx.URL(f"http://127.0.0.1:8765{path}").copy_with(query=query or None)
    response = await ims.get(url, headers=headers)
    assert response.status_code == 400
    assert lightroom_json(response) == {"code": 400, "description": "Bad Request"}
    entry = (await ims_context.journal.entries())[-1]
    assert (entry["endpoint"], entry["outcome"], entry["status"]) == (f"lightroom.{path[4:]}", "refused", 400)
