"""One real `mock-ims serve` process shared by every interop test, and the user's part of a
sign-in done over HTTP (open the login page, click a test user), as a browser would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.helpers.processes import RunningProcess, mock_ims_process

CLIENT_ID = "mock-partner-app"
CLIENT_SECRET = "mock-partner-secret"
REDIRECT_URI = "http://localhost:8000/callback"


@pytest.fixture(scope="package")
def ims_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    with mock_ims_process(data_dir=tmp_path_factory.mktemp("interop-ims")) as running:
        yield running


def _field(html: str, name: str) -> str:
    match = re.search(rf'name={name} value="([^"]*)"', html)
    if match is None:
        raise AssertionError(f"no {name} field on the login page:\n{html[:2000]}")
    return match.group(1)


async def sign_in_over_http(
    authorization_url: str, *, user: str = "alice@example.com", action: str = "allow"
) -> str:
    """Open the authorization URL and click the test user (or Deny); the callback URL the mock
    sends the browser to."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(authorization_url)
        assert page.status_code == 200, page.text[:2000]
        form = {"rid": _field(page.text, "rid"), "csrf": _field(page.text, "csrf")}
        form.update({"user": user} if action == "allow" else {"action": action})
        answer = await browser.post(httpx.URL(authorization_url).join("/ims/login"), data=form)
        assert answer.status_code == 302, answer.text[:2000]
        location: str = answer.headers["location"]
        return location


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


async def journal(server: RunningProcess, **filters: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{server.url}/__admin/journal", params=filters)
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries
