"""The journal: every request with its outcome and reason, secrets masked, leniencies named."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from mock_ims.config import MockConfig
from mock_ims.serving.app import create_app
from mock_ims.state.context import Context, Settings
from tests.conftest import BASE
from tests.helpers.clients import DEFAULT_REDIRECT_CLIENT_ID, config_with_extra_clients
from tests.helpers.flows import (
    CLIENT_ID,
    CLIENT_SECRET,
    VERIFIER,
    authorize_params,
    form_field,
    redeem,
    sign_in,
    tokens_for,
)

pytestmark = pytest.mark.anyio
AUTH = (CLIENT_ID, CLIENT_SECRET)


@pytest.fixture
def config() -> MockConfig:
    return config_with_extra_clients()


async def entries(ims: httpx.AsyncClient, **filters: str) -> list[dict[str, Any]]:
    response = await ims.get("/__admin/journal", params=filters)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(body["entries"])
    result: list[dict[str, Any]] = body["entries"]
    return result


# ---- leniencies --------------------------------------------------------------------------------


async def _secret_in_query(ims: httpx.AsyncClient) -> None:
    await ims.post(
        "/ims/token/v3",
        params={"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    )


async def _redirect_uri_omitted(ims: httpx.AsyncClient) -> None:
    await redeem(ims, (await sign_in(ims)).code)


async def _token_in_query(ims: httpx.AsyncClient) -> None:
    tokens = await tokens_for(ims)
    await ims.get("/ims/userinfo/v2", params={"access_token": tokens["access_token"]})


async def _default_redirect(ims: httpx.AsyncClient) -> None:
    await ims.get(
        "/ims/authorize/v2", params=authorize_params(client_id=DEFAULT_REDIRECT_CLIENT_ID, redirect_uri=None)
    )


async def _unregistered_redirect(ims: httpx.AsyncClient) -> None:
    params = authorize_params(client_id=DEFAULT_REDIRECT_CLIENT_ID, redirect_uri="https://evil.example/")
    await ims.get("/ims/authorize/v2", params=params)


async def _plain_pkce(ims: httpx.AsyncClient) -> None:
    await ims.get(
        "/ims/authorize/v2", params=authorize_params(code_challenge=VERIFIER, code_challenge_method="plain")
    )


async def _scope_omitted(ims: httpx.AsyncClient) -> None:
    await ims.get("/ims/authorize/v2", params=authorize_params(scope=None))


async def _cc_scope_omitted(ims: httpx.AsyncClient) -> None:
    await ims.post("/ims/token/v3", data={"grant_type": "client_credentials"}, auth=AUTH)


LENIENCIES: list[tuple[str, str, Callable[[httpx.AsyncClient], Awaitable[None]]]] = [
    ("client_secret_in_query", "token", _secret_in_query),
    ("redirect_uri_omitted", "token", _redirect_uri_omitted),
    ("access_token_in_query", "userinfo", _token_in_query),
    ("redirect_uri_missing", "authorize", _default_redirect),
    ("redirect_uri_unregistered_used_default", "authorize", _unregistered_redirect),
    ("pkce_plain", "authorize", _plain_pkce),
    ("scope_omitted", "authorize", _scope_omitted),
    ("scope_omitted", "token", _cc_scope_omitted),
]


@pytest.mark.parametrize(
    ("note", "endpoint", "request_"), LENIENCIES, ids=[f"{n}@{e}" for n, e, _ in LENIENCIES]
)
async def test_every_leniency_is_accepted_and_journalled_under_its_name(
    ims: httpx.AsyncClient, note: str, endpoint: str, request_: Callable[[httpx.AsyncClient], Awaitable[None]]
) -> None:
    await request_(ims)
    entry = (await entries(ims, endpoint=endpoint))[-1]
    assert entry["outcome"] == "ok"
    assert note in entry["notes"]


async def test_a_strict_request_carries_no_notes(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    await redeem(ims, callback.code, redirect_uri="http://localhost:8000/callback")
    assert all(entry["notes"] == [] for entry in await entries(ims))


# ---- what an entry holds -----------------------------------------------------------------------


async def test_secrets_are_masked_but_their_presence_is_kept(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    await ims.post(
        "/ims/token/v3",
        data={
            "grant_type": "authorization_code",
            "code": callback.code,
            "code_verifier": VERIFIER,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    entry = (await entries(ims, endpoint="token"))[-1]
    assert entry["params"]["client_secret"] == "***"
    assert entry["params"]["code_verifier"] == "***"
    assert entry["params"]["code"].startswith("<authorization_code ")
    assert entry["param_sources"]["client_secret"] == "body"
    assert entry["auth"] == "body"
    assert entry["consumed"] in entry["params"]["code"]
    assert len(entry["issued"]) == 2
    journal_text = str(await entries(ims))
    assert CLIENT_SECRET not in journal_text
    assert callback.code not in journal_text


async def test_the_password_on_the_login_form_is_masked(ims: httpx.AsyncClient) -> None:
    page = await ims.get("/ims/authorize/v2", params=authorize_params())
    form = {"rid": form_field(page.text, "rid"), "csrf": form_field(page.text, "csrf")}
    await ims.post("/ims/login", data={**form, "email": "alice@example.com", "password": "alice-pass"})
    entry = (await entries(ims, endpoint="login"))[-1]
    assert entry["params"]["password"] == "***"
    assert "alice-pass" not in str(entry)


async def test_the_code_in_a_redirect_location_is_masked(ims: httpx.AsyncClient) -> None:
    callback = await sign_in(ims)
    entry = (await entries(ims, endpoint="login"))[-1]
    assert entry["location"].startswith("http://localhost:8000/callback?code=%3Cauthorization_code+")
    assert callback.code not in entry["location"]


async def test_only_the_authorization_scheme_is_kept(ims: httpx.AsyncClient) -> None:
    await ims.post(
        "/ims/token/v3",
        data={"grant_type": "client_credentials"},
        auth=AUTH,
        headers={"Origin": "https://app.example"},
    )
    entry = (await entries(ims))[-1]
    assert entry["headers"]["authorization"] == "Basic"
    assert entry["headers"]["origin"] == "https://app.example"


async def test_a_refusal_is_journalled_with_error_and_reason(ims: httpx.AsyncClient) -> None:
    await ims.post("/ims/token/v3", data={"grant_type": "password"}, auth=AUTH)
    entry = (await entries(ims))[-1]
    assert entry["outcome"] == "refused"
    assert entry["status"] == 400
    assert entry["error"] == "unsupported_grant_type"
    assert entry["reason"] == "grant_type 'password' is not supported"
    assert entry["client_id"] == CLIENT_ID


async def test_a_malformed_request_is_journalled_too(ims: httpx.AsyncClient) -> None:
    await ims.post("/ims/token/v3?grant_type=a&grant_type=b")
    entry = (await entries(ims))[-1]
    assert (entry["endpoint"], entry["status"], entry["error"]) == ("token", 400, "invalid_request")
    assert entry["reason"] == "parameter grant_type is repeated (RFC 6749 §3.1)"


# ---- the admin endpoint ------------------------------------------------------------------------


async def test_the_journal_filters_by_endpoint_client_outcome_and_position(ims: httpx.AsyncClient) -> None:
    await tokens_for(ims)
    await ims.post("/ims/token/v3", data={"grant_type": "password"}, auth=AUTH)
    everything = await entries(ims)
    assert [e["endpoint"] for e in everything] == ["authorize", "login", "token", "token"]
    assert len(await entries(ims, endpoint="token")) == 2
    assert [e["error"] for e in await entries(ims, outcome="refused")] == ["unsupported_grant_type"]
    assert len(await entries(ims, client_id=CLIENT_ID)) == 4
    assert len(await entries(ims, limit="1")) == 1
    assert [e["seq"] for e in await entries(ims, after=str(everything[1]["seq"]))] == [
        e["seq"] for e in everything[2:]
    ]
    assert await entries(ims, since="2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ({"colour": "red"}, "unknown filter 'colour'"),
        ({"limit": "-1"}, "limit: must be a non-negative whole number"),
        ({"after": "x"}, "after: must be a non-negative whole number"),
        ({"limit": "\u00b2"}, "limit: must be a non-negative whole number"),  # isdigit(), but not int()
        ({"after": "\u0663"}, "after: must be a non-negative whole number"),  # an Arabic-Indic 3
        ({"since": "yesterday"}, "since: 'yesterday' is not an ISO 8601 time"),
    ],
)
async def test_a_bad_filter_is_400_naming_it(
    ims: httpx.AsyncClient, query: dict[str, str], detail: str
) -> None:
    response = await ims.get("/__admin/journal", params=query)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert detail in response.json()["detail"]


async def test_delete_clears_the_journal(ims: httpx.AsyncClient) -> None:
    await ims.get("/ims/keys")
    assert (await ims.delete("/__admin/journal")).json() == {"cleared": True}
    assert await entries(ims) == []


async def test_the_journal_keeps_the_newest_entries_up_to_its_limit() -> None:
    ctx = Context(Settings(config_with_extra_clients(journal_limit=3)))
    transport = httpx.ASGITransport(app=create_app(ctx.settings, context=ctx))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        for path in ("/ims/keys", "/ims/token/v9", "/ims/keys", "/ims/token/v8"):
            await client.get(path)
    assert [e["path"] for e in await ctx.journal.entries()] == ["/ims/token/v9", "/ims/keys", "/ims/token/v8"]
