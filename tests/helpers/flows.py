"""Walking the authorization code flow through the mock, without a browser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from mock_ims.protocol.pkce import s256

CLIENT_ID = "mock-partner-app"
CLIENT_SECRET = "mock-partner-secret"
REDIRECT_URI = "http://localhost:8000/callback"
SCOPE = "openid,AdobeID,lr_partner_apis,offline_access"
VERIFIER = "v" * 43 + "erifier-0123456789"


def form_field(html: str, name: str) -> str:
    match = re.search(rf'name={name} value="([^"]*)"', html)
    if not match:
        raise AssertionError(f"no {name} field in the page:\n{html[:2000]}")
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parts.query or parts.fragment, keep_blank_values=True).items()}


def authorize_params(**overrides: Any) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPE,
        "response_type": "code",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


@dataclass
class Callback:
    location: str
    params: dict[str, str]

    @property
    def code(self) -> str:
        return self.params["code"]


async def open_login_page(
    client: httpx.AsyncClient, path: str = "/ims/authorize/v2", **overrides: Any
) -> httpx.Response:
    response = await client.get(path, params=authorize_params(**overrides))
    assert response.status_code == 200, response.text
    return response


async def sign_in(
    client: httpx.AsyncClient,
    *,
    user: str = "alice@example.com",
    action: str | None = None,
    path: str = "/ims/authorize/v2",
    **overrides: Any,
) -> Callback:
    """Authorize, then click a test user (or Allow/Deny); the redirect back to the client.

    When the client's cookies hold a mock SSO session, IMS answers at once, without the page.
    """
    response = await client.get(path, params=authorize_params(**overrides))
    if response.status_code == 302 and action is None:
        return Callback(response.headers["location"], query_of(response.headers["location"]))
    page = response
    assert page.status_code == 200, page.text
    form = {"rid": form_field(page.text, "rid"), "csrf": form_field(page.text, "csrf")}
    if action is None:
        form["user"] = user
    else:
        form["action"] = action
    response = await client.post("/ims/login", data=form)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    return Callback(location, query_of(location))


async def redeem(
    client: httpx.AsyncClient, code: str, path: str = "/ims/token/v3", **extra: str
) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER, **extra}
    return await client.post(path, data=data, auth=(CLIENT_ID, CLIENT_SECRET))


async def tokens_for(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    callback = await sign_in(client, **overrides)
    response = await redeem(client, callback.code)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
