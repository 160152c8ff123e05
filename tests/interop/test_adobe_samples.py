"""Requests as Adobe's own samples send them, against a real mock: everything in the query
string, no `redirect_uri` on the token request, or a multipart body."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest

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


async def sample_code(server: RunningProcess) -> str:
    """A code from an authorize URL as Adobe's Lightroom sample builds it: no PKCE, no nonce."""
    params = {
        "client_id": CLIENT_ID,
        "scope": "openid,AdobeID,lr_partner_apis,offline_access",
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
    }
    callback = query_of(await sign_in_over_http(f"{server.url}/ims/authorize/v2?{urlencode(params)}"))
    return callback["code"]


@pytest.mark.parametrize("path", ["/ims/token", "/ims/token/v3"])
async def test_everything_in_the_query_string_without_redirect_uri_succeeds(
    ims_server: RunningProcess, path: str
) -> None:
    code = await sample_code(ims_server)
    query = {
        "grant_type": "authorization_code",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "code": code,
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{ims_server.url}{path}", params=query)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"access_token", "refresh_token", "token_type", "expires_in"} <= set(body)
    assert body["expires_in"] == (86399 if path.endswith("/v3") else 86_399_000)
    entry = (await journal(ims_server, endpoint="token"))[-1]
    assert entry["outcome"] == "ok"
    assert {"client_secret_in_query", "redirect_uri_omitted"} <= set(entry["notes"])
    assert entry["params"]["client_secret"] == "***"


async def test_a_refresh_in_the_query_string_succeeds(ims_server: RunningProcess) -> None:
    code = await sample_code(ims_server)
    credentials = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    async with httpx.AsyncClient() as client:
        tokens = (
            await client.post(
                f"{ims_server.url}/ims/token",
                params={"grant_type": "authorization_code", "code": code, **credentials},
            )
        ).json()
        query = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **credentials}
        response = await client.post(f"{ims_server.url}/ims/token", params=query)
    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] != tokens["refresh_token"]


@pytest.mark.parametrize("path", ["/ims/token/v3", "/ims/token/v1"])
async def test_a_multipart_token_request_succeeds(ims_server: RunningProcess, path: str) -> None:
    code = await sample_code(ims_server)
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{ims_server.url}{path}", files={name: (None, value) for name, value in fields.items()}
        )
    assert response.request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert response.status_code == 200, response.text
    entry = (await journal(ims_server, endpoint="token"))[-1]
    assert entry["auth"] == "body"
    assert entry["param_sources"]["code"] == "body"


async def test_a_multipart_request_with_a_file_is_refused(ims_server: RunningProcess) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{ims_server.url}/ims/token/v3",
            files={"grant_type": ("grant.txt", b"client_credentials", "text/plain")},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    assert response.status_code == 400
    assert response.json()["error_description"] == "parameter grant_type is a file upload; send a plain field"
