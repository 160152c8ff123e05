"""The control plane over HTTP: every admin operation, as curl would use it."""

from __future__ import annotations

import httpx
import pytest

from mock_ims.config import default_config
from mock_ims.serving.app import create_app
from mock_ims.state.context import Settings
from tests.conftest import BASE
from tests.helpers.flows import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, redeem, sign_in, tokens_for

pytestmark = pytest.mark.anyio
AUTH = (CLIENT_ID, CLIENT_SECRET)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# ---- journal ----------------------------------------------------------------------------


async def test_the_journal_filters_by_endpoint_client_and_outcome(ims: httpx.AsyncClient) -> None:
    await tokens_for(ims)
    await ims.post("/ims/token/v3", data={"grant_type": "client_credentials"}, auth=(CLIENT_ID, "wrong"))
    tokens = (await ims.get("/__admin/journal", params={"endpoint": "token"})).json()["entries"]
    assert [e["outcome"] for e in tokens] == ["ok", "refused"]
    refused = (await ims.get("/__admin/journal", params={"outcome": "refused"})).json()["entries"]
    assert [e["reason"] for e in refused] == ["wrong client secret"]
    by_client = (await ims.get("/__admin/journal", params={"client_id": CLIENT_ID})).json()["entries"]
    assert {e["endpoint"] for e in by_client} >= {"authorize", "login", "token"}


async def test_the_journal_filters_by_time_and_can_be_cleared(ims: httpx.AsyncClient) -> None:
    await ims.get("/ims/keys")
    now = (await ims.post("/__admin/clock", json={"advance": 10})).json()["now"]
    await ims.get("/ims/.well-known/openid-configuration")
    later = (await ims.get("/__admin/journal", params={"since": now})).json()["entries"]
    assert [e["endpoint"] for e in later] == ["discovery"]
    assert (await ims.delete("/__admin/journal")).status_code == 200
    assert (await ims.get("/__admin/journal")).json()["entries"] == []


async def test_a_bad_journal_filter_is_a_clear_400(ims: httpx.AsyncClient) -> None:
    response = await ims.get("/__admin/journal", params={"since": "yesterday"})
    assert response.status_code == 400
    assert "since" in response.json()["detail"]
    response = await ims.get("/__admin/journal", params={"colour": "red"})
    assert response.status_code == 400


# ---- clock --------------------------------------------------------------------------------


async def test_advancing_the_clock_expires_access_tokens_at_userinfo_and_profile(
    ims: httpx.AsyncClient,
) -> None:
    body = await tokens_for(ims)
    assert (await ims.get("/ims/userinfo/v2", headers=bearer(body["access_token"]))).status_code == 200
    await ims.post("/__admin/clock", json={"advance": 86_400})
    for path in ("/ims/userinfo/v2", "/ims/profile/v1"):
        response = await ims.get(path, headers=bearer(body["access_token"]))
        assert response.status_code == 401
        assert response.json()["error_description"] == "access token expired"


async def test_advancing_the_clock_expires_codes(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    await ims.post("/__admin/clock", json={"advance": 601})
    response = await redeem(ims, callback.code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_the_clock_can_be_set_and_reset(ims: httpx.AsyncClient) -> None:
    response = await ims.post("/__admin/clock", json={"set": "2031-05-01T12:00:00Z"})
    assert response.json()["now"].startswith("2031-05-01T12:00:0")
    reset = await ims.delete("/__admin/clock")
    assert reset.json()["offset_seconds"] == 0


async def test_the_clock_cannot_be_walked_past_the_year_3000_a_century_at_a_time(
    ims: httpx.AsyncClient,
) -> None:
    # Before the range check, enough of these made every date past year 9999 a 500.
    for _ in range(9):
        assert (await ims.post("/__admin/clock", json={"advance": 100 * 365 * 86_400})).status_code == 200
    refused = await ims.post("/__admin/clock", json={"advance": 100 * 365 * 86_400})
    assert refused.status_code == 400
    assert "between 1970-01-01T00:00:00Z and 3000-01-01T00:00:00Z" in refused.json()["detail"]
    assert (await ims.get("/__admin/tokens")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"advance": "soon"},
        {"advance": True},
        {"set": "tomorrow"},
        {"set": 5},
        {},
        {"advance": 1, "set": "x"},
        {"set": "3000-01-01T00:00:00Z"},
        {"set": "9999-12-31T23:59:59Z"},
        {"set": "1969-12-31T23:59:59Z"},
        {"advance": -100 * 365 * 86_400},
    ],
)
async def test_bad_clock_requests_are_refused_clearly(
    ims: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await ims.post("/__admin/clock", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


# ---- users and clients ---------------------------------------------------------------------


async def test_users_can_be_added_changed_and_removed_at_run_time(ims: httpx.AsyncClient) -> None:
    created = await ims.post("/__admin/users", json={"email": "dave@example.com", "password": "dave-pass"})
    assert created.status_code == 201
    user_id = created.json()["user_id"]
    assert user_id.endswith("@AdobeID")
    changed = await ims.patch("/__admin/users/dave@example.com", json={"first_name": "David"})
    assert changed.json()["first_name"] == "David"
    callback = await sign_in(ims, user="dave@example.com")
    body = (await redeem(ims, callback.code)).json()
    assert (await ims.delete(f"/__admin/users/{user_id}")).status_code == 204
    assert (await ims.get("/ims/profile/v1", headers=bearer(body["access_token"]))).status_code == 401
    assert (await ims.get("/__admin/users/dave@example.com")).status_code == 404


async def test_a_duplicate_user_is_a_conflict(ims: httpx.AsyncClient) -> None:
    response = await ims.post("/__admin/users", json={"email": "alice@example.com", "password": "x"})
    assert response.status_code == 409


async def test_clients_can_be_registered_and_used_at_once(ims: httpx.AsyncClient) -> None:
    client = {
        "client_id": "new-app",
        "client_secret": "new-secret",
        "redirect_uris": [r"https://app\.example/cb"],
        "scopes": ["openid", "AdobeID", "lr_partner_apis"],
        "grant_types": ["authorization_code", "client_credentials"],
    }
    assert (await ims.post("/__admin/clients", json=client)).status_code == 201
    token = await ims.post(
        "/ims/token/v3", data={"grant_type": "client_credentials"}, auth=("new-app", "new-secret")
    )
    assert token.status_code == 200
    patched = await ims.patch("/__admin/clients/new-app", json={"client_secret": "rotated"})
    assert patched.json()["client_secret"] == "rotated"
    old = await ims.post(
        "/ims/token/v3", data={"grant_type": "client_credentials"}, auth=("new-app", "new-secret")
    )
    assert old.json()["error"] == "invalid_client"
    assert (await ims.delete("/__admin/clients/new-app")).status_code == 204
    assert (await ims.get("/__admin/clients/new-app")).status_code == 404


async def test_a_malformed_client_names_the_field(ims: httpx.AsyncClient) -> None:
    response = await ims.post("/__admin/clients", json={"client_id": "x", "redirect_uris": ["(bad"]})
    assert response.status_code == 400
    assert "redirect_uris[0]" in response.json()["detail"]


# ---- tokens --------------------------------------------------------------------------------


async def test_every_issued_token_is_listed_with_its_raw_value_and_claims(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    listed = (await ims.get("/__admin/tokens", params={"user": "alice@example.com"})).json()["tokens"]
    by_kind = {t["kind"]: t for t in listed}
    assert by_kind["access_token"]["raw"] == body["access_token"]
    assert by_kind["refresh_token"]["raw"] == body["refresh_token"]
    assert by_kind["authorization_code"]["used"] is True
    assert by_kind["access_token"]["claims"]["type"] == "access_token"
    assert by_kind["access_token"]["header"]["itt"] == "at"
    live = (await ims.get("/__admin/tokens", params={"live": "true"})).json()["tokens"]
    assert {t["kind"] for t in live} == {"access_token", "refresh_token"}


async def test_a_minted_code_is_redeemable_without_a_browser(ims: httpx.AsyncClient) -> None:
    minted = await ims.post(
        "/__admin/tokens",
        json={
            "kind": "authorization_code",
            "user": "bob@example.com",
            "redirect_uri": REDIRECT_URI,
            "scope": "openid,AdobeID",
        },
    )
    assert minted.status_code == 201
    code = minted.json()["token"]
    response = await ims.post(
        "/ims/token/v3", data={"grant_type": "authorization_code", "code": code}, auth=AUTH
    )
    assert response.status_code == 200
    assert response.json()["sub"].endswith("@AdobeID")


async def test_minted_access_and_refresh_tokens_work(ims: httpx.AsyncClient) -> None:
    access = (
        await ims.post("/__admin/tokens", json={"kind": "access_token", "user": "alice@example.com"})
    ).json()
    assert (await ims.get("/ims/profile/v1", headers=bearer(access["token"]))).status_code == 200
    refresh = (
        await ims.post("/__admin/tokens", json={"kind": "refresh_token", "user": "alice@example.com"})
    ).json()
    answer = await ims.post(
        "/ims/token/v3", data={"grant_type": "refresh_token", "refresh_token": refresh["token"]}, auth=AUTH
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"kind": "session"}, "kind"),
        ({"kind": "authorization_code", "user": "alice@example.com"}, "redirect_uri"),
        (
            {
                "kind": "authorization_code",
                "user": "alice@example.com",
                "redirect_uri": "https://evil.example/cb",
            },
            "redirect_uri",
        ),
        ({"kind": "refresh_token"}, "user"),
        ({"kind": "access_token", "user": "nobody@example.com"}, "user"),
        ({"kind": "access_token", "scope": "admin"}, "scope"),
        ({"kind": "access_token", "colour": "red"}, "colour"),
        ({"kind": "access_token", "lifetime": 0}, "lifetime"),
        ({"kind": "access_token", "code_challenge_method": {}}, "code_challenge_method"),
        ({"kind": "access_token", "code_challenge_method": "S512"}, "code_challenge_method"),
        ({"kind": "access_token", "lifetime": 10**12}, "lifetime"),  # was a 500 (found by fuzzing)
    ],
)
async def test_bad_mint_requests_name_the_field(
    ims: httpx.AsyncClient, body: dict[str, object], fragment: str
) -> None:
    response = await ims.post("/__admin/tokens", json=body)
    assert response.status_code in (400, 404)
    assert fragment in response.json()["detail"]


async def test_revoking_a_users_tokens(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    revoked = (await ims.post("/__admin/tokens/revoke", json={"user": "alice@example.com"})).json()["revoked"]
    kinds = {t["id"]: t["kind"] for t in (await ims.get("/__admin/tokens")).json()["tokens"]}
    assert sorted(kinds[i] for i in revoked) == ["access_token", "authorization_code", "refresh_token"]
    assert (await ims.get("/ims/userinfo/v2", headers=bearer(body["access_token"]))).status_code == 401


async def test_revoking_one_token_by_value(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    revoked = (await ims.post("/__admin/tokens/revoke", json={"token": body["refresh_token"]})).json()[
        "revoked"
    ]
    assert len(revoked) == 1
    refresh = await ims.post(
        "/ims/token/v3",
        data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        auth=AUTH,
    )
    assert refresh.json()["error"] == "invalid_grant"
    assert (await ims.get("/ims/userinfo/v2", headers=bearer(body["access_token"]))).status_code == 200


# ---- reset -------------------------------------------------------------------------------


async def test_reset_clears_journal_tokens_faults_clock_and_run_time_changes(ims: httpx.AsyncClient) -> None:
    body = await tokens_for(ims)
    await ims.post("/__admin/clock", json={"advance": 100})
    await ims.post("/__admin/faults", json={"endpoint": "keys", "status": 500})
    await ims.post("/__admin/users", json={"email": "eve@example.com", "password": "x"})
    assert (await ims.post("/__admin/reset")).json() == {"reset": True}
    assert (await ims.get("/__admin/journal")).json()["entries"] == []
    assert (await ims.get("/__admin/tokens")).json()["tokens"] == []
    assert (await ims.get("/__admin/faults")).json()["faults"] == []
    assert abs((await ims.get("/__admin/clock")).json()["offset_seconds"]) < 1
    assert (await ims.get("/__admin/users/eve@example.com")).status_code == 404
    assert (await ims.get("/ims/userinfo/v2", headers=bearer(body["access_token"]))).status_code == 401


# ---- access ------------------------------------------------------------------------------


async def test_with_an_admin_token_the_control_plane_demands_it() -> None:
    app = create_app(Settings(default_config(), admin_token="let-me-in"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        assert (await client.get("/__admin/journal")).status_code == 401
        wrong = await client.get("/__admin/journal", headers=bearer("nope"))
        assert wrong.status_code == 401
        right = await client.get("/__admin/journal", headers=bearer("let-me-in"))
        assert right.status_code == 200
        assert (await client.get("/ims/keys")).status_code == 200  # IMS itself stays open


async def test_a_null_revocation_selector_selects_nothing(ims: httpx.AsyncClient) -> None:
    # {"token": null} once revoked every token the mock had issued (found by fuzzing).
    minted = await ims.post("/__admin/tokens", json={"kind": "access_token", "user": "alice@example.com"})
    refused = await ims.post("/__admin/tokens/revoke", json={"token": None, "user": None})
    assert refused.status_code == 400
    assert "say what to revoke" in refused.json()["detail"]
    live = await ims.get("/__admin/tokens", params={"live": "true"})
    assert [t["id"] for t in live.json()["tokens"]] == [minted.json()["id"]]


async def test_put_replaces_a_client_only_with_a_body(ims: httpx.AsyncClient) -> None:
    # An empty PUT once reset the client to defaults, dropping its secret and redirect URIs.
    refused = await ims.put("/__admin/clients/mock-partner-app")
    assert refused.status_code == 400
    assert refused.json()["detail"] == "a JSON object body is required"
    client = (await ims.get("/__admin/clients/mock-partner-app")).json()
    assert client["client_secret"] == "mock-partner-secret"


@pytest.mark.parametrize("path", ["/__admin/users/a%0Ab", "/__admin/clients/x%0Ay", "/__admin/nothing"])
async def test_an_unknown_control_plane_path_is_a_json_404(ims: httpx.AsyncClient, path: str) -> None:
    response = await ims.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


async def test_a_fault_rule_with_a_falsy_non_number_delay_is_refused(ims: httpx.AsyncClient) -> None:
    # {"delay": {}} and {"headers": []} were read as "no delay" and "no headers" (found by fuzzing).
    for body in (
        {"endpoint": "keys", "status": 503, "delay": {}},
        {"endpoint": "keys", "status": 503, "headers": []},
    ):
        response = await ims.post("/__admin/faults", json=body)
        assert response.status_code == 400, body


async def test_a_body_of_whitespace_is_not_json(ims: httpx.AsyncClient) -> None:
    # It was read as an empty body, so a PATCH of "\n" succeeded (found by fuzzing).
    answer = await ims.patch("/__admin/clients/mock-partner-app", content=b"\n")
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith("the body is not valid JSON")
