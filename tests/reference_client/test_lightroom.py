"""The Lightroom account on the profile page: against the mock's Lightroom stub, and against
small stand-ins that answer as docs/ims-facts.md §6 describes Lightroom (JSON behind `while (1) {}`,
401 for a missing token, 403 with code 4300 for an expired one) in ways the stub does not.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_ims.state.context import Context
from reference_client.lightroom import parse_body
from tests.helpers.flows import CLIENT_ID
from tests.reference_client.harness import LIGHTROOM_URL, InProcess, in_process

pytestmark = pytest.mark.anyio

PREFIX = "while (1) {}\n"
ACCOUNT = {
    "type": "account",
    "email": "alice@example.com",
    "full_name": "Alice Example",
    "country": "US",
    "entitlement": {"status": "subscriber"},
}


@dataclass
class Lightroom:
    """Refuses the first `refusals` tokens it sees with `refusal`; then serves the account."""

    refusal: tuple[int, str] | None = None
    seen: list[dict[str, str]] = field(default_factory=list)
    refused_tokens: set[str] = field(default_factory=set)

    async def account(self, request: Request) -> Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.seen.append({"api_key": request.headers.get("x-api-key", ""), "token": token})
        if self.refusal is not None and (not self.refused_tokens or token in self.refused_tokens):
            self.refused_tokens.add(token)
            status, body = self.refusal
            return Response(PREFIX + body, status, media_type="application/json")
        return Response(PREFIX + json.dumps(ACCOUNT), media_type="application/json;charset=utf-8")

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v2/account", self.account)])


async def signed_in(ims_context: Context, tmp_path: Path, lightroom: Lightroom) -> InProcess:
    rc = await in_process(
        ims_context,
        tmp_path / "data",
        extra_apps={LIGHTROOM_URL: lightroom.app()},
        lightroom_base_url=LIGHTROOM_URL,
    )
    await rc.sign_in()
    return rc


@pytest.fixture
async def closing() -> AsyncIterator[list[InProcess]]:
    running: list[InProcess] = []
    yield running
    for rc in running:
        await rc.aclose()


async def refreshes(rc: InProcess) -> int:
    return len([e for e in await rc.journal(endpoint="token") if e["grant_type"] == "refresh_token"])


def test_the_while_1_prefix_is_stripped() -> None:
    assert parse_body(b'while (1) {}\n{"a": 1}') == {"a": 1}
    assert parse_body(b'while(1){}{"a": 1}') == {"a": 1}
    assert parse_body(b'{"a": 1}') == {"a": 1}


async def test_the_profile_shows_the_lightroom_account_and_entitlement(
    ims_context: Context, tmp_path: Path, closing: list[InProcess]
) -> None:
    lightroom = Lightroom()
    rc = await signed_in(ims_context, tmp_path, lightroom)
    closing.append(rc)
    page = await rc.browser.get("/profile")
    assert "<dd id=lr-entitlement>subscriber</dd>" in page.text
    assert "<dd id=lr-name>Alice Example</dd>" in page.text
    [call] = lightroom.seen
    assert call["api_key"] == CLIENT_ID
    assert call["token"].count(".") == 2


@pytest.mark.parametrize(
    "refusal",
    [
        (403, '{"code":4300,"description":"Access is forbidden"}'),
        (403, '{"error_code":"4300","message":"Access is forbidden"}'),
        (401, ""),
    ],
)
async def test_a_token_lightroom_refuses_as_expired_is_refreshed_and_the_call_retried(
    ims_context: Context, tmp_path: Path, closing: list[InProcess], refusal: tuple[int, str]
) -> None:
    lightroom = Lightroom(refusal=refusal)
    rc = await signed_in(ims_context, tmp_path, lightroom)
    closing.append(rc)
    page = await rc.browser.get("/profile")
    assert "<dd id=lr-entitlement>subscriber</dd>" in page.text
    assert await refreshes(rc) == 1
    first, second = lightroom.seen
    assert first["token"] != second["token"]


async def test_another_lightroom_refusal_is_a_note_not_a_refresh(
    ims_context: Context, tmp_path: Path, closing: list[InProcess]
) -> None:
    lightroom = Lightroom(refusal=(403, '{"code":"403003","description":"Api Key is invalid"}'))
    rc = await signed_in(ims_context, tmp_path, lightroom)
    closing.append(rc)
    page = await rc.browser.get("/profile")
    assert page.status_code == 200
    assert "id=lightroom-unavailable" in page.text and "HTTP 403" in page.text
    assert "Alice Example" in page.text  # the IMS profile is still shown
    assert await refreshes(rc) == 0


async def test_lightroom_refusing_even_a_fresh_token_is_a_note(
    ims_context: Context, tmp_path: Path, closing: list[InProcess]
) -> None:
    async def always_refuse(request: Request) -> Response:
        return Response("", 401)

    rc = await in_process(
        ims_context,
        tmp_path / "data",
        extra_apps={LIGHTROOM_URL: Starlette(routes=[Route("/v2/account", always_refuse)])},
        lightroom_base_url=LIGHTROOM_URL,
    )
    closing.append(rc)
    await rc.sign_in()
    page = await rc.browser.get("/profile")
    assert "refused your access token" in page.text
    assert await refreshes(rc) == 1


@pytest.mark.parametrize("body", ["<html>", "[1, 2]"])
async def test_lightroom_answering_nonsense_is_a_note(
    ims_context: Context, tmp_path: Path, closing: list[InProcess], body: str
) -> None:
    async def nonsense(request: Request) -> Response:
        return Response(PREFIX + body, 200)

    rc = await in_process(
        ims_context,
        tmp_path / "data",
        extra_apps={LIGHTROOM_URL: Starlette(routes=[Route("/v2/account", nonsense)])},
        lightroom_base_url=LIGHTROOM_URL,
    )
    closing.append(rc)
    await rc.sign_in()
    page = await rc.browser.get("/profile")
    assert page.status_code == 200
    assert "id=lightroom-unavailable" in page.text


async def test_lightroom_not_answering_leaves_the_ims_profile_shown(
    ims_context: Context, tmp_path: Path, closing: list[InProcess]
) -> None:
    rc = await in_process(ims_context, tmp_path / "data", lightroom_base_url=LIGHTROOM_URL)  # nothing there
    closing.append(rc)
    await rc.sign_in()
    page = await rc.browser.get("/profile")
    assert page.status_code == 200
    assert "<dd id=email>alice@example.com</dd>" in page.text
    assert "Lightroom is unavailable right now" in page.text


# --- the mock's Lightroom stub -----------------------------------------------------------------


async def test_the_mocks_lightroom_stub_shows_each_users_entitlement(rc: InProcess) -> None:
    await rc.sign_in()
    assert "<dd id=lr-entitlement>subscriber</dd>" in (await rc.browser.get("/profile")).text
    bob = rc.new_browser()
    await rc.sign_in(user="bob@example.com", browser=bob)
    assert "<dd id=lr-entitlement>trial</dd>" in (await bob.get("/profile")).text
    [call, _] = await rc.journal(endpoint="lightroom.account")
    assert call["outcome"] == "ok"
    assert call["headers"]["x-api-key"] == CLIENT_ID
    assert call["headers"]["authorization"] == "Bearer"


async def test_an_expired_token_at_the_lightroom_stub_is_refreshed_once_for_both_apis(rc: InProcess) -> None:
    await rc.sign_in()
    await rc.mock.clock.advance(86_400)
    page = await rc.browser.get("/profile")
    assert "<dd id=lr-entitlement>subscriber</dd>" in page.text
    assert await refreshes(rc) == 1
    outcomes = [(e["status"], e["outcome"]) for e in await rc.journal(endpoint="lightroom.account")]
    assert outcomes == [(403, "refused"), (200, "ok")]
